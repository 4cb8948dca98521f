import type { Core } from '../context.js';
import { uniqueParams } from '../http/body.js';
import { checkClient } from './checks/client.js';
import { checkPkce } from './checks/pkce.js';
import { checkRedirectUri } from './checks/redirect-uri.js';
import { checkResource } from './checks/resource.js';
import { checkResponseType } from './checks/response-type.js';
import { checkScope } from './checks/scope.js';
import { checkState } from './checks/state.js';
import { type AuthorizeCheck, AuthorizeRequest } from './request.js';
import { startFlow } from './start.js';

/**
 * The checks of the authorization endpoint, in order. Until the redirect URI is validated, errors are
 * shown as a page (RFC 6749 §4.1.2.1); after it, they are redirected with `state` and `iss`.
 */
export const AUTHORIZE_CHECKS: readonly AuthorizeCheck[] = [
  checkClient,
  checkRedirectUri,
  checkState,
  checkResponseType,
  checkPkce,
  checkResource,
  checkScope,
];

/** The authorization endpoint (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1): the checks, then the user's session. */
export async function authorize(core: Core, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const resources = url.searchParams.getAll('resource');
  // RFC 6749 §3.1: parameters must not repeat, except `resource` (RFC 8707 §2).
  const params = uniqueParams(
    new URLSearchParams([...url.searchParams].filter(([name]) => name !== 'resource')),
  );
  const req = new AuthorizeRequest(core, request, params, resources);
  for (const check of AUTHORIZE_CHECKS) await check(req);
  if (req.client) core.config.onEvent({ type: 'authorization_started', clientId: req.client.clientId });
  return startFlow(core, request, req);
}
