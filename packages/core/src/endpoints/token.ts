import type { Core } from '../context.js';
import { base64url, utf8 } from '../crypto/encoding.js';
import { timingSafeEqual } from '../crypto/hash.js';
import { jsonResponse, OAuthError } from '../errors.js';
import { issueTokens, revokeGrant } from '../grant.js';
import { CORS_HEADERS, readForm } from '../http.js';
import { authenticateClient } from '../policy/client-auth.js';
import { type ClientRecord, codeRecord, grantRecord, tokenRecord } from '../records.js';
import { withoutTrailingSlash } from './metadata.js';

/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

const required = (form: Map<string, string>, name: string): string => {
  const value = form.get(name);
  if (value === undefined || value === '')
    throw new OAuthError('invalid_request', `The ${name} parameter is missing`);
  return value;
};

const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);

/** RFC 8707 §2.2: a `resource` on the token request must name the grant's resource. */
function checkResource(form: Map<string, string>, resource: string): void {
  const requested = form.get('resource');
  if (requested !== undefined && withoutTrailingSlash(requested) !== withoutTrailingSlash(resource)) {
    throw new OAuthError('invalid_target', 'The resource does not match the one authorized');
  }
}

/** The token endpoint (RFC 6749 §3.2, OAuth 2.1 §3.2): authorization_code and refresh_token grants. */
export async function token(core: Core, request: Request): Promise<Response> {
  const form = await readForm(request);
  const grantType = form.get('grant_type');
  if (!grantType) throw new OAuthError('invalid_request', 'The grant_type parameter is missing');
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
    throw new OAuthError(
      'unsupported_grant_type',
      `The grant type "${grantType.slice(0, 100)}" is not supported`,
    );
  }
  const client = await authenticateClient(core, request, form);
  if (!client.grantTypes.includes(grantType)) {
    throw new OAuthError('unauthorized_client', `This client did not register the ${grantType} grant type`);
  }
  const body =
    grantType === 'authorization_code'
      ? await redeemCode(core, client, form)
      : await refresh(core, client, form);
  return jsonResponse(body, 200, CORS_HEADERS);
}

async function redeemCode(core: Core, client: ClientRecord, form: Map<string, string>) {
  const code = required(form, 'code');
  const redirectUri = form.get('redirect_uri');
  const verifier = form.get('code_verifier');
  // OAuth 2.1 §4.1.3: the verifier is required; a missing one is a PKCE downgrade attempt.
  if (verifier === undefined)
    throw new OAuthError('invalid_request', 'The code_verifier parameter is missing (PKCE)');
  if (!VERIFIER.test(verifier))
    throw new OAuthError('invalid_request', 'The code_verifier is malformed (RFC 7636 §4.1)');

  const consumed = await core.records.consume('code', await core.hash(code), core.now(), codeRecord);
  if (!consumed) throw invalidGrant('The authorization code is invalid or expired');
  const record = consumed.record;
  if (consumed.status === 'already_consumed') {
    // RFC 6749 §4.1.2: a code used twice revokes the tokens it issued.
    core.config.onEvent({
      type: 'replay_detected',
      what: 'authorization_code',
      clientId: record.clientId,
      grantId: record.grantId,
    });
    await revokeGrant(core, record.grantId, 'authorization code replay');
    throw invalidGrant('The authorization code was already used');
  }
  if (record.expiresAt <= core.now()) throw invalidGrant('The authorization code is expired');
  if (record.clientId !== client.clientId) {
    await revokeGrant(core, record.grantId, 'authorization code presented by another client');
    throw invalidGrant('The authorization code was issued to another client');
  }
  // RFC 6749 §4.1.3: redirect_uri is required when the authorization request had it, and must be identical.
  if (record.redirectUriSent !== false && redirectUri === undefined) {
    throw new OAuthError('invalid_request', 'The redirect_uri parameter is missing');
  }
  if (redirectUri !== undefined && redirectUri !== record.redirectUri) {
    throw invalidGrant('The redirect_uri does not match the authorization request');
  }
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(verifier))));
  if (!(await timingSafeEqual(challenge, record.codeChallenge)))
    throw invalidGrant('PKCE verification failed');

  const grant = await core.records.get('grant', record.grantId, grantRecord);
  if (!grant) throw invalidGrant('The authorization was revoked');
  checkResource(form, grant.resource);
  return issueTokens(
    core,
    grant,
    grant.scopes,
    client.grantTypes.includes('refresh_token'),
    'authorization_code',
  );
}

async function refresh(core: Core, client: ClientRecord, form: Map<string, string>) {
  const refreshToken = required(form, 'refresh_token');
  const key = await core.hash(refreshToken);
  // Check the client before consuming, so a token replayed by a stranger cannot burn the real client's.
  const peek = await core.records.get('refresh', key, tokenRecord);
  if (!peek) throw invalidGrant('The refresh token is invalid or expired');
  if (peek.clientId !== client.clientId) throw invalidGrant('The refresh token was issued to another client');

  const consumed = await core.records.consume('refresh', key, core.now(), tokenRecord);
  if (!consumed) throw invalidGrant('The refresh token is invalid or expired');
  if (consumed.status === 'already_consumed') {
    // OAuth 2.1 §4.3.1 / RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the whole grant.
    core.config.onEvent({
      type: 'replay_detected',
      what: 'refresh_token',
      clientId: client.clientId,
      grantId: peek.grantId,
    });
    await revokeGrant(core, peek.grantId, 'refresh token reuse');
    throw invalidGrant('The refresh token was already used; the authorization has been revoked');
  }
  const grant = await core.records.get('grant', consumed.record.grantId, grantRecord);
  if (!grant) throw invalidGrant('The authorization was revoked');
  checkResource(form, grant.resource);
  let scopes = consumed.record.scopes;
  const requested = form.get('scope');
  if (requested !== undefined) {
    // RFC 6749 §6: a refresh may narrow the scope, never widen it.
    const wanted = [...new Set(requested.split(' ').filter(Boolean))];
    const extra = wanted.filter((s) => !grant.scopes.includes(s));
    if (extra.length > 0)
      throw new OAuthError('invalid_scope', `Scope not granted originally: ${extra.join(' ')}`);
    scopes = wanted;
  }
  return issueTokens(core, grant, scopes, true, 'refresh_token');
}
