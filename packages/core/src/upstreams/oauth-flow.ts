import * as oauth from 'oauth4webapi';
import { timingSafeEqual } from '../crypto/hash.js';
import { isLoopbackHttp } from '../rules/loopback.js';
import type { PendingAuthorization, UpstreamToken } from '../types.js';
import type { UpstreamContext, UpstreamOutcome, UpstreamRefresh } from '../upstream.js';
import { failure, joinState, splitState } from './shared.js';

/** Settings shared by the OAuth 2 and OIDC upstreams. */
export interface OAuthClientSettings {
  readonly clientId: string;
  readonly clientSecret?: string;
  /** How the client authenticates at the token endpoint; default `client_secret_basic`. */
  readonly clientAuth?: 'client_secret_basic' | 'client_secret_post' | 'none';
  readonly scopes: readonly string[];
  /** Route receiving the IdP's redirect, relative to the issuer; default `/callback`. */
  readonly callbackPath?: string;
  /** Extra authorization request parameters (e.g. `{ prompt: 'select_account', hd: 'example.com' }`). */
  readonly authorizationParams?: Readonly<Record<string, string>>;
  /** The fetch used to reach the IdP; default the global one. */
  readonly fetch?: typeof fetch;
}

/** What a callback produced, before the identity is mapped. */
export interface CallbackResult {
  readonly pendingId: string;
  readonly tokens: oauth.TokenEndpointResponse;
  readonly saved: Readonly<Record<string, string>>;
  readonly as: oauth.AuthorizationServer;
  readonly client: oauth.Client;
}

/** oauth4webapi request options for this IdP: custom fetch, http allowed on loopback only. */
export function requestOptions(
  settings: OAuthClientSettings,
  url: URL,
): { [oauth.customFetch]?: typeof fetch; [oauth.allowInsecureRequests]?: boolean } {
  return {
    ...(settings.fetch ? { [oauth.customFetch]: settings.fetch } : {}),
    ...(isLoopbackHttp(url) ? { [oauth.allowInsecureRequests]: true } : {}),
  };
}

export function clientAuth(settings: OAuthClientSettings): oauth.ClientAuth {
  const method = settings.clientAuth ?? (settings.clientSecret ? 'client_secret_basic' : 'none');
  if (method === 'none') return oauth.None();
  if (!settings.clientSecret) throw new TypeError(`${method} needs a clientSecret`);
  return method === 'client_secret_post'
    ? oauth.ClientSecretPost(settings.clientSecret)
    : oauth.ClientSecretBasic(settings.clientSecret);
}

/**
 * Starts an authorization code flow at the IdP: PKCE (S256), `state` bound to the pending request and
 * (for OIDC) a `nonce`, all saved encrypted with the pending authorization.
 */
export async function beginAuthorization(
  as: oauth.AuthorizationServer,
  settings: OAuthClientSettings,
  pending: PendingAuthorization,
  ctx: UpstreamContext,
  oidc: boolean,
): Promise<Response> {
  if (!as.authorization_endpoint) throw new TypeError('the identity provider has no authorization_endpoint');
  const verifier = oauth.generateRandomCodeVerifier();
  const state = ctx.randomToken();
  const nonce = oidc ? ctx.randomToken() : '';
  await ctx.savePendingState(pending.id, { state, verifier, ...(oidc ? { nonce } : {}) });
  const url = new URL(as.authorization_endpoint);
  const params: Record<string, string> = {
    ...settings.authorizationParams,
    client_id: settings.clientId,
    redirect_uri: ctx.url(settings.callbackPath ?? '/callback'),
    response_type: 'code',
    scope: settings.scopes.join(' '),
    state: joinState(pending.id, state),
    // RFC 7636 §4.3: S256 code challenge.
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...(oidc ? { nonce } : {}),
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return new Response(null, {
    status: 302,
    headers: { location: url.toString(), 'cache-control': 'no-store' },
  });
}

/**
 * Handles the IdP's redirect: finds the pending request from `state`, checks `state` (constant time)
 * and `iss` (RFC 9207), and redeems the code with the PKCE verifier. Returns either the token response
 * or the outcome to answer with.
 */
export async function handleCallback(
  request: Request,
  ctx: UpstreamContext,
  as: oauth.AuthorizationServer,
  settings: OAuthClientSettings,
  process: (
    response: Response,
    saved: Readonly<Record<string, string>>,
  ) => Promise<oauth.TokenEndpointResponse>,
): Promise<CallbackResult | UpstreamOutcome> {
  const url = new URL(request.url);
  const parts = splitState(url.searchParams.get('state'));
  if (!parts)
    return failure(ctx, 'callback without a valid state', 'The sign-in response is missing its state.');
  const saved = await ctx.loadPendingState(parts.pendingId);
  if (!saved?.state || !saved.verifier) {
    return failure(
      ctx,
      'callback for an unknown or expired flow',
      'This sign-in has expired; start again from the application.',
    );
  }
  if (!(await timingSafeEqual(parts.nonce, saved.state))) {
    return failure(ctx, 'callback state mismatch', 'The sign-in response does not match this sign-in.');
  }
  const client: oauth.Client = { client_id: settings.clientId };
  let params: URLSearchParams;
  try {
    // RFC 9207 §2.4: a present `iss` must equal the IdP's issuer (oauth4webapi checks it with the state).
    params = oauth.validateAuthResponse(as, client, url, joinState(parts.pendingId, saved.state));
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) {
      ctx.loginFailed(`identity provider returned ${error.error}`);
      return {
        type: 'denied',
        pendingId: parts.pendingId,
        reason:
          error.error === 'access_denied'
            ? 'The user declined at the identity provider'
            : 'The identity provider refused the sign-in',
      };
    }
    return failure(
      ctx,
      'invalid authorization response (state or iss)',
      'The sign-in response was not issued by the expected identity provider.',
    );
  }
  const redirectUri = ctx.url(settings.callbackPath ?? '/callback');
  try {
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth(settings),
      params,
      redirectUri,
      saved.verifier,
      requestOptions(settings, new URL(as.issuer)),
    );
    const tokens = await process(response, saved);
    return { pendingId: parts.pendingId, tokens, saved, as, client };
  } catch (error) {
    const reason =
      error instanceof oauth.ResponseBodyError
        ? `token endpoint error ${error.error}`
        : error instanceof oauth.OperationProcessingError
          ? `token response rejected: ${error.code ?? 'invalid'}`
          : 'token exchange failed';
    return failure(ctx, reason, 'The identity provider did not confirm the sign-in.', 502);
  }
}

/** The upstream token to keep with the grant. */
export function upstreamTokenOf(tokens: oauth.TokenEndpointResponse, now: number): UpstreamToken {
  return {
    accessToken: tokens.access_token,
    tokenType: tokens.token_type,
    ...(typeof tokens.expires_in === 'number'
      ? { expiresAt: Math.floor(now / 1000) + tokens.expires_in }
      : {}),
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    ...(tokens.scope ? { scope: tokens.scope } : {}),
  };
}

/** Tells a callback result from an outcome. */
export const isCallbackResult = (value: CallbackResult | UpstreamOutcome): value is CallbackResult =>
  'tokens' in value;

/** How long a refresh or revocation request to the IdP may take. */
const IDP_CALL_TIMEOUT_MS = 10_000;

/**
 * Refreshes an upstream token at the IdP (RFC 6749 §6). An `invalid_grant` answer means the session at
 * the IdP ended; anything else (network, 5xx, `invalid_client`) is transient and ends nothing.
 */
export async function refreshAtIdp(
  as: oauth.AuthorizationServer,
  settings: OAuthClientSettings,
  token: UpstreamToken,
  now: number,
): Promise<UpstreamRefresh> {
  if (!token.refreshToken) return { ok: false, ended: true, reason: 'no refresh token' };
  const client: oauth.Client = { client_id: settings.clientId };
  try {
    const response = await oauth.refreshTokenGrantRequest(
      as,
      client,
      clientAuth(settings),
      token.refreshToken,
      {
        ...requestOptions(settings, new URL(as.issuer)),
        signal: AbortSignal.timeout(IDP_CALL_TIMEOUT_MS),
      },
    );
    const tokens = await oauth.processRefreshTokenResponse(as, client, response);
    const fresh = upstreamTokenOf(tokens, now);
    // RFC 6749 §6: the IdP may keep the refresh token (and the scope) as they were.
    return {
      ok: true,
      token: {
        ...fresh,
        ...(fresh.refreshToken ? {} : { refreshToken: token.refreshToken }),
        ...(fresh.scope || !token.scope ? {} : { scope: token.scope }),
      },
    };
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) {
      return {
        ok: false,
        ended: error.error === 'invalid_grant',
        reason: `token endpoint error ${error.error}`,
      };
    }
    return { ok: false, ended: false, reason: 'the identity provider did not answer the refresh' };
  }
}

/**
 * Revokes an upstream token at the IdP (RFC 7009 §2.1): the refresh token when there is one (which also
 * ends the access tokens of that grant at most IdPs), else the access token. Does nothing when the IdP
 * has no revocation endpoint; failures are ignored (the grant is revoked here either way).
 */
export async function revokeAtIdp(
  as: oauth.AuthorizationServer,
  settings: OAuthClientSettings,
  token: UpstreamToken,
): Promise<void> {
  if (!as.revocation_endpoint) return;
  const [value, hint] = token.refreshToken
    ? [token.refreshToken, 'refresh_token']
    : [token.accessToken, 'access_token'];
  try {
    const response = await oauth.revocationRequest(
      as,
      { client_id: settings.clientId },
      clientAuth(settings),
      value,
      {
        ...requestOptions(settings, new URL(as.issuer)),
        additionalParameters: { token_type_hint: hint },
        signal: AbortSignal.timeout(IDP_CALL_TIMEOUT_MS),
      },
    );
    await oauth.processRevocationResponse(response);
  } catch {
    // Best effort: the IdP token expires on its own.
  }
}
