import type { Core } from '../context.js';
import { KeyRing } from '../crypto/keys.js';
import { type GrantOwner, indexedGrantIds, ownedBy } from '../stores/grant-index.js';
import { parseRecord } from '../stores/records.js';
import { type GrantRecord, grantRecord } from '../stores/schemas.js';

/** A grant as management shows it: who, which client, what, until when; never its sealed secrets. */
export interface GrantSummary {
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms: the grant's absolute end. */
  readonly expiresAt: number;
  /** The id of the secret-derived key that sealed it (see secret rotation). */
  readonly sealedBy: string | null;
}

/** Grant ids are base64url; other keys of the `grant` kind (`upstream-token:<id>`) hold a colon. */
const isGrantKey = (key: string) => !key.includes(':');

export function summarize(grant: GrantRecord): GrantSummary {
  return {
    id: grant.id,
    userId: grant.userId,
    clientId: grant.clientId,
    scopes: grant.scopes,
    resource: grant.resource,
    createdAt: grant.createdAt,
    expiresAt: grant.expiresAt,
    sealedBy: KeyRing.sealedBy(grant.sealed),
  };
}

/** Every live grant, by walking the `grant` kind. */
export async function allGrants(core: Core): Promise<GrantRecord[]> {
  const grants: GrantRecord[] = [];
  const seen = new Set<string>();
  const now = core.now();
  for await (const record of core.records.walk('grant')) {
    if (!isGrantKey(record.key) || seen.has(record.key)) continue;
    seen.add(record.key);
    const grant = parseRecord(grantRecord, record.value);
    if (grant && grant.id === record.key && grant.expiresAt > now) grants.push(grant);
  }
  return grants;
}

/** The live grants the index finds for an owner; dangling entries are skipped. */
export async function indexedGrants(core: Core, owner: GrantOwner): Promise<GrantRecord[]> {
  const ids = await indexedGrantIds(core, owner);
  const grants = await Promise.all(ids.map((id) => core.grants.get(id)));
  return grants.filter((g): g is GrantRecord => g !== null && ownedBy(g, owner));
}

/**
 * Every live grant of an owner, complete: the index, plus a walk of all grants for any written before
 * the index existed (a revocation must not miss one).
 */
export async function everyGrantOf(core: Core, owner: GrantOwner): Promise<GrantRecord[]> {
  const found = new Map((await indexedGrants(core, owner)).map((g) => [g.id, g]));
  for (const grant of await allGrants(core)) if (ownedBy(grant, owner)) found.set(grant.id, grant);
  return [...found.values()];
}

/** Revokes grants one by one (each a final delete); returns how many. */
export async function revokeAll(core: Core, grants: readonly GrantRecord[], reason: string): Promise<number> {
  for (const grant of grants) await core.tokens.revokeGrant(grant.id, reason, grant);
  return grants.length;
}
