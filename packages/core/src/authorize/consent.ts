import type { Core } from '../context.js';
import { OAuthError } from '../errors.js';
import { readForm } from '../http/body.js';
import { accessRequestHtml, flowInputs, htmlPage } from '../pages/html.js';
import type { PendingRecord } from '../stores/schemas.js';
import type { Identity } from '../types.js';
import { denyPending } from './deny.js';
import { finishAuthorization } from './finish.js';
import { describePending } from './pending-view.js';

/** Path of the consent form, under the issuer. */
export const CONSENT_PATH = '/authorize/consent';

const expired = () =>
  new OAuthError(
    'invalid_request',
    'This authorization request has expired; start again from the application',
  );

/** The consent page: who asks, for what, approve or deny (a CSRF-protected form). */
export async function consentPage(core: Core, pendingId: string, record: PendingRecord): Promise<Response> {
  const pending = await describePending(core, pendingId, record);
  if (!pending) throw new OAuthError('invalid_client', 'This client is not registered');
  const csrf = await core.browser.csrfToken(pendingId, record);
  const view = accessRequestHtml({
    serviceName: core.config.serviceName,
    clientName: pending.client.clientName ?? 'An application',
    clientId: pending.client.clientId,
    redirectUri: pending.client.redirectUri,
    scopes: pending.scopes,
    resource: pending.resource,
  });
  return htmlPage(
    `Authorize ${pending.client.clientName ?? 'application'}`,
    `${view}<form method="post" action="${core.endpoint(CONSENT_PATH)}">${flowInputs(pendingId, csrf)}
<div class="actions"><button class="secondary" name="decision" value="deny">Deny</button><button class="primary" name="decision" value="approve" autofocus>Approve</button></div></form>`,
  );
}

/** Handles the consent form: verifies the browser binding and CSRF token, then approves or denies. */
export async function consentDecision(core: Core, request: Request): Promise<Response> {
  const form = await readForm(request);
  const pendingId = form.get('pending') ?? '';
  const record = await core.pending.load(pendingId);
  if (!record?.identity) throw expired();
  const verified =
    (await core.browser.matches(request, record)) &&
    (await core.browser.verifyCsrf(pendingId, record, form.get('csrf') ?? ''));
  if (!verified) {
    throw new OAuthError(
      'invalid_request',
      'The form could not be verified (CSRF check failed); start again from the application',
      403,
    );
  }
  const identity = await core.pending.open<Identity>(pendingId, 'identity', record.identity);
  if (!identity)
    throw new OAuthError('invalid_request', 'This authorization request can no longer be completed');
  if (form.get('decision') !== 'approve') return denyPending(core, pendingId, 'The user denied the request');
  return finishAuthorization(core, pendingId, record, identity);
}
