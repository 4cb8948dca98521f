import type { Core } from '../context.js';
import { OAuthError } from '../errors.js';
import { describePending } from './pending-view.js';
import type { AuthorizeRequest } from './request.js';
import { settleOutcome } from './settle.js';
import { upstreamContext } from './upstream-context.js';

/**
 * The last step of the authorization endpoint: stores the validated request as pending, binds it to a
 * fresh browser cookie and hands it to the identity upstream.
 */
export async function startFlow(core: Core, request: Request, req: AuthorizeRequest): Promise<Response> {
  const { value: browser, hash: browserHash } = await core.browser.begin(request);
  const { id, record } = await core.pending.create({
    clientId: req.client!.clientId,
    redirectUri: req.redirectUri!,
    redirectUriSent: req.redirectUriSent,
    state: req.state,
    codeChallenge: req.codeChallenge!,
    scopes: req.scopes!,
    resource: req.resource!.resource,
    browserHash,
    ...(req.client!.shared ? { sharedClient: true } : {}),
  });
  const pending = await describePending(core, id, record);
  if (!pending) throw new OAuthError('invalid_client', 'This client is not registered');
  const begun = await core.config.upstream.begin(pending, request, upstreamContext(core, request));
  const response = begun instanceof Response ? begun : await settleOutcome(core, request, begun, browser);
  return core.browser.setCookie(response, browser);
}
