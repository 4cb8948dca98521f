import type { Core } from './context.js';
import { PREFIX } from './context.js';
import { consentKey, redirectToClient } from './flow.js';
import { errorPage } from './pages/html.js';
import {
  type GrantRecord,
  type GrantSecrets,
  type PendingRecord,
  pendingRecord,
  type TokenRecord,
} from './records.js';
import type { Identity } from './types.js';

/** Seals the identity details and props of a grant (AES-GCM, bound to the grant id). */
export const sealGrant = (core: Core, grantId: string, secrets: GrantSecrets) =>
  core.keys.seal(JSON.stringify(secrets), `grant:${grantId}`);

/** Opens what {@link sealGrant} sealed; `null` when the keys cannot open it. */
export async function openGrant(core: Core, grant: GrantRecord): Promise<GrantSecrets | null> {
  const cached = core.openedGrants.get(grant.id);
  if (cached?.sealed === grant.sealed) return cached.secrets;
  const opened = await core.keys.open(grant.sealed, `grant:${grant.id}`);
  if (!opened) return null;
  const secrets = JSON.parse(opened) as GrantSecrets;
  core.openedGrants.set(grant.id, { sealed: grant.sealed, secrets }, core.now() + 60_000);
  return secrets;
}

/**
 * Issues the authorization code for an approved request: creates the grant (immutable from here on,
 * so deleting it is a final revocation that no concurrent request can undo), remembers consent, drops the pending request and redirects with `code`,
 * `state` and `iss` (RFC 6749 §4.1.2, RFC 9207 §2).
 */
export async function finishAuthorization(
  core: Core,
  pendingId: string,
  pending: PendingRecord,
  identity: Identity,
): Promise<Response> {
  const now = core.now();
  const grantId = core.token('', 18);
  const code = core.token(PREFIX.code);
  const codeExpires = now + core.config.lifetimes.code * 1000;
  const secrets: GrantSecrets = {
    email: identity.email,
    name: identity.name,
    props: { ...(identity.props ?? {}) },
    upstreamToken: identity.upstreamToken ? { ...identity.upstreamToken } : undefined,
  };
  const grant: GrantRecord = {
    id: grantId,
    clientId: pending.clientId,
    userId: identity.userId,
    scopes: pending.scopes,
    resource: pending.resource,
    sealed: await sealGrant(core, grantId, secrets),
    createdAt: now,
    expiresAt: now + core.config.lifetimes.grant * 1000,
  };
  // The pending request is single use: of two concurrent submits of one form, only one mints a code.
  const claim = await core.records.consume('pending', pendingId, now, pendingRecord);
  if (claim?.status !== 'consumed') {
    return errorPage(
      'invalid_request',
      'This authorization request was already completed; start again from the application',
    );
  }
  await core.records.delete('pending', pendingId);
  await core.records.put('grant', grantId, grant, grant.expiresAt);
  await core.records.put(
    'code',
    await core.hash(code),
    {
      grantId,
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      redirectUriSent: pending.redirectUriSent !== false,
      codeChallenge: pending.codeChallenge,
      expiresAt: codeExpires,
    },
    codeExpires,
  );
  if (core.config.rememberConsent) {
    await core.records.put(
      'consent',
      await consentKey(core, identity.userId, pending.clientId),
      { scopes: pending.scopes, resources: [pending.resource], at: now },
      now + core.config.lifetimes.refresh * 1000,
    );
  }
  core.config.onEvent({
    type: 'authorization_granted',
    clientId: pending.clientId,
    userId: identity.userId,
    scopes: pending.scopes,
    resource: pending.resource,
  });
  return redirectToClient(core, pending.redirectUri, { code, state: pending.state });
}

/** Issues an access token (and a refresh token when the client may refresh) for a grant. */
export async function issueTokens(
  core: Core,
  grant: GrantRecord,
  scopes: readonly string[],
  withRefresh: boolean,
  grantType: 'authorization_code' | 'refresh_token',
): Promise<Record<string, unknown>> {
  const now = core.now();
  const { access, refresh } = core.config.lifetimes;
  const accessToken = core.token(PREFIX.access);
  // Tokens never outlive their grant; the grant itself is never extended or rewritten.
  const accessRecord: TokenRecord = {
    grantId: grant.id,
    clientId: grant.clientId,
    scopes: [...scopes],
    resource: grant.resource,
    expiresAt: Math.min(now + access * 1000, grant.expiresAt),
  };
  const refreshExpires = Math.min(now + refresh * 1000, grant.expiresAt);
  await core.records.put('access', await core.hash(accessToken), accessRecord, accessRecord.expiresAt);
  const body: Record<string, unknown> = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: Math.floor((accessRecord.expiresAt - now) / 1000),
    scope: scopes.join(' '),
  };
  if (withRefresh) {
    const refreshToken = core.token(PREFIX.refresh);
    await core.records.put(
      'refresh',
      await core.hash(refreshToken),
      { ...accessRecord, expiresAt: refreshExpires },
      refreshExpires,
    );
    body.refresh_token = refreshToken;
  }
  core.config.onEvent({
    type: 'token_issued',
    clientId: grant.clientId,
    userId: grant.userId,
    grantType,
    grantId: grant.id,
  });
  return body;
}

/** Revokes every token of a grant by deleting it (tokens are only valid while their grant exists). */
export async function revokeGrant(core: Core, grantId: string, reason: string): Promise<void> {
  await core.records.delete('grant', grantId);
  core.openedGrants.delete(grantId);
  core.tokenCache?.deleteWhere((verified) => verified.grant.id === grantId);
  core.config.onEvent({ type: 'grant_revoked', grantId, reason });
}
