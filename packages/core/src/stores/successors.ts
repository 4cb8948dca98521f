import { sha256 } from '../crypto/hash.js';
import type { KeyRing } from '../crypto/keys.js';
import { PREFIX, type StoreContext } from './context.js';
import { type TokenRecord, tokenRecord } from './schemas.js';

/**
 * A credential presented at the token endpoint (a refresh token or an authorization code) that the
 * response is derived from, so a repeat of the request within the reuse interval gets the same tokens.
 */
export interface PresentedCredential {
  /** The refresh token or authorization code, as presented. */
  readonly value: string;
  /** The random salt stored in its record (absent in records written before salts existed). */
  readonly salt: string | undefined;
}

/** The token values issued for one token request. */
export interface TokenValues {
  readonly accessToken: string;
  readonly refreshToken: string;
}

/** A token about to be written: its at-rest key (the value's hash) and its record. */
export interface PlannedToken {
  readonly key: string;
  readonly record: TokenRecord;
}

/** The records of one token response: an access token and, when asked, a refresh token. */
export interface PlannedTokens {
  readonly values: TokenValues;
  readonly access: PlannedToken;
  readonly refresh?: PlannedToken;
}

/** What was stored for a token response, whoever wrote it. */
export interface StoredTokens {
  readonly access: TokenRecord;
  readonly refresh?: TokenRecord;
  /** Whether the refresh token was already used (rotated) by the time it was read. */
  readonly refreshConsumed: boolean;
}

/**
 * Derives the successor tokens of a presented credential: HMAC-SHA-256 under the server key of its value
 * and salt. Every instance derives the same values, so no token is kept at rest to answer a repeat; the
 * server key plus an old token is not enough to compute later ones, each step needs the stored salt too.
 */
export async function deriveSuccessor(keys: KeyRing, presented: PresentedCredential): Promise<TokenValues> {
  // The salt is base64url (no `|`) and the presented value comes last, so inputs cannot collide.
  const input = (part: string) =>
    `portcullis/successor/v1|${part}|${presented.salt ?? ''}|${presented.value}`;
  const [access, refresh] = await Promise.all([keys.mac(input('access')), keys.mac(input('refresh'))]);
  return { accessToken: PREFIX.access + access, refreshToken: PREFIX.refresh + refresh };
}

/** Writes the planned records (access and refresh in parallel). */
export async function writeTokens(ctx: StoreContext, planned: PlannedTokens): Promise<StoredTokens> {
  const { access, refresh } = planned;
  await Promise.all([
    ctx.records.put('access', access.key, access.record, access.record.expiresAt),
    refresh && ctx.records.put('refresh', refresh.key, refresh.record, refresh.record.expiresAt),
  ]);
  return { access: access.record, ...(refresh ? { refresh: refresh.record } : {}), refreshConsumed: false };
}

/**
 * Writes the successor records of a presented credential exactly once across instances, and returns
 * what is stored. A `put` is never repeated over an existing refresh record: it would reset its
 * `consumedAt` and make a successor that was already rotated usable again.
 *
 * An atomic `increment` elects the writer; the others wait (bounded) for its records. If they do not
 * appear, the writer failed between its claim and its writes (a crash, or a timed-out call that still
 * committed), and the waiter writes what is still absent itself.
 */
export async function writeSuccessorOnce(
  ctx: StoreContext,
  presented: PresentedCredential,
  planned: PlannedTokens,
): Promise<StoredTokens> {
  const { reuseIntervalMs, storageTimeoutMs } = ctx.config;
  const claimKey = `successor:${await sha256(presented.value)}`;
  // The claim outlives every repeat the interval accepts, so no later repeat writes again.
  const claim = await ctx.records.increment(
    'counter',
    claimKey,
    ctx.now() + reuseIntervalMs + 2 * storageTimeoutMs,
  );
  if (claim === 1) return writeTokens(ctx, planned);
  const stored = await waitForTokens(ctx, planned, storageTimeoutMs);
  if (stored) return stored;
  return writeAbsent(ctx, planned);
}

/** Reads the planned records; `null` unless all of them are stored. */
async function readTokens(ctx: StoreContext, planned: PlannedTokens): Promise<StoredTokens | null> {
  const [access, refresh] = await readPlanned(ctx, planned);
  if (!access || (planned.refresh && !refresh)) return null;
  return {
    access,
    ...(refresh ? { refresh: refresh.record } : {}),
    refreshConsumed: refresh?.consumedAt != null,
  };
}

function readPlanned(ctx: StoreContext, planned: PlannedTokens) {
  return Promise.all([
    ctx.records.get('access', planned.access.key, tokenRecord),
    planned.refresh ? ctx.records.getEntry('refresh', planned.refresh.key, tokenRecord) : null,
  ]);
}

/** Polls for the planned records with a growing delay, for at most `budgetMs` (wall clock). */
async function waitForTokens(
  ctx: StoreContext,
  planned: PlannedTokens,
  budgetMs: number,
): Promise<StoredTokens | null> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const stored = await readTokens(ctx, planned);
    if (stored) return stored;
    const delay = Math.min(20 * 2 ** attempt, 250);
    if (Date.now() - started + delay > budgetMs) return null;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** Writes each planned record that is not stored yet; returns what is stored in the end. */
async function writeAbsent(ctx: StoreContext, planned: PlannedTokens): Promise<StoredTokens> {
  const [access, refresh] = await readPlanned(ctx, planned);
  const { access: plannedAccess, refresh: plannedRefresh } = planned;
  await Promise.all([
    access ??
      ctx.records.put('access', plannedAccess.key, plannedAccess.record, plannedAccess.record.expiresAt),
    plannedRefresh &&
      !refresh &&
      ctx.records.put('refresh', plannedRefresh.key, plannedRefresh.record, plannedRefresh.record.expiresAt),
  ]);
  return {
    access: access ?? plannedAccess.record,
    ...(plannedRefresh ? { refresh: refresh?.record ?? plannedRefresh.record } : {}),
    refreshConsumed: refresh?.consumedAt != null,
  };
}
