import type { Core } from '../context.js';
import { OAuthError } from '../errors.js';
import { type AuthorizationParams, redirectWithError, startFlow } from '../flow.js';
import { uniqueParams } from '../http.js';
import { errorPage } from '../pages/html.js';
import { loadClient } from '../policy/client-id-document.js';
import { redirectUriMatches } from '../policy/redirect-uri.js';
import { withoutTrailingSlash } from './metadata.js';

/** A PKCE code challenge: BASE64URL(SHA-256(verifier)) is 43 characters (RFC 7636 §4.2). */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const MAX_STATE = 2048;

/**
 * The authorization endpoint (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1). Errors about the client or the
 * redirect URI are shown as a page and never redirected (RFC 6749 §4.1.2.1); all others are
 * redirected to the validated redirect URI with `state` and `iss` (RFC 9207).
 */
export async function authorize(core: Core, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const resources = url.searchParams.getAll('resource');
  const rest = new URLSearchParams([...url.searchParams].filter(([name]) => name !== 'resource'));
  let params: Map<string, string>;
  try {
    params = uniqueParams(rest);
  } catch (error) {
    return errorPage('invalid_request', error instanceof OAuthError ? error.description : 'Invalid request');
  }

  const clientId = params.get('client_id');
  if (!clientId) return errorPage('invalid_request', 'The client_id parameter is missing');
  let client: Awaited<ReturnType<typeof loadClient>>;
  try {
    client = await loadClient(core, clientId);
  } catch (error) {
    if (error instanceof OAuthError) return errorPage(error.code, error.description);
    throw error;
  }
  if (!client) return errorPage('invalid_client', 'This client is not registered (it may have been deleted)');

  const requested = params.get('redirect_uri');
  let redirectUri: string;
  if (requested === undefined) {
    // RFC 6749 §3.1.2.3: redirect_uri may be omitted only when exactly one is registered.
    if (client.redirectUris.length !== 1) {
      return errorPage('invalid_request', 'redirect_uri is required because the client registered several');
    }
    redirectUri = client.redirectUris[0]!;
  } else if (client.redirectUris.some((registered) => redirectUriMatches(registered, requested))) {
    redirectUri = requested;
  } else {
    return errorPage('invalid_request', 'The redirect_uri does not match any URI registered by this client');
  }

  const state = params.get('state');
  const fail = (code: string, description: string) =>
    redirectWithError(core, redirectUri, code, description, state);

  if (state !== undefined && state.length > MAX_STATE) return fail('invalid_request', 'state is too long');
  const responseType = params.get('response_type');
  if (responseType === undefined) return fail('invalid_request', 'response_type is required');
  if (responseType !== 'code')
    return fail('unsupported_response_type', 'Only response_type=code is supported');

  // OAuth 2.1 §4.1.1 / RFC 7636: PKCE with S256 is mandatory; "plain" and a missing method are refused.
  const challenge = params.get('code_challenge');
  const method = params.get('code_challenge_method');
  if (challenge === undefined) return fail('invalid_request', 'code_challenge is required (PKCE)');
  if (method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256');
  if (!S256_CHALLENGE.test(challenge))
    return fail('invalid_request', 'code_challenge is not a valid S256 challenge');

  // RFC 8707 §2: one resource, an absolute URI without fragment, that this server protects.
  if (resources.length > 1) return fail('invalid_target', 'Only one resource may be requested');
  let resource = core.config.resources[0]!;
  if (resources.length === 1) {
    const wanted = withoutTrailingSlash(resources[0]!);
    const found = core.config.resources.find((r) => withoutTrailingSlash(r.resource) === wanted);
    if (!found)
      return fail('invalid_target', 'The requested resource is not served by this authorization server');
    resource = found;
  }

  // RFC 6749 §3.3: requested scopes must be supported, allowed for the client and the resource.
  const scopeParam = params.get('scope');
  const scopes =
    scopeParam === undefined
      ? [...core.config.defaultScopes]
      : [...new Set(scopeParam.split(' ').filter(Boolean))];
  const allowed = client.scope ? client.scope.split(' ') : core.config.scopesSupported;
  const refused = scopes.filter((s) => !allowed.includes(s) || !resource.scopes.includes(s));
  if (refused.length > 0) return fail('invalid_scope', `Unsupported scope: ${refused.join(' ')}`);

  const authorization: AuthorizationParams = {
    client,
    redirectUri,
    redirectUriSent: requested !== undefined,
    state,
    codeChallenge: challenge,
    scopes,
    resource: resource.resource,
  };
  return startFlow(core, request, authorization);
}
