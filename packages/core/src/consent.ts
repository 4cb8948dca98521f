import type { Core } from './context.js';
import {
  browserMatches,
  csrfToken,
  describePending,
  loadPendingRecord,
  redirectWithError,
  verifyCsrf,
} from './flow.js';
import { finishAuthorization } from './grant.js';
import { readForm } from './http.js';
import { accessRequestHtml, errorPage, flowInputs, htmlPage } from './pages/html.js';
import type { PendingRecord } from './records.js';
import type { Identity } from './types.js';

/** The consent page: who asks, for what, approve or deny (CSRF-protected form). */
export async function consentPage(
  core: Core,
  browser: string | undefined,
  pendingId: string,
  record: PendingRecord,
): Promise<Response> {
  const pending = await describePending(core, pendingId, record);
  if (!pending) return errorPage('invalid_client', 'This client is not registered');
  const csrf = await csrfToken(core, browser, pendingId);
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
    `${view}<form method="post" action="${core.endpoint('/authorize/consent')}">${flowInputs(pendingId, csrf)}
<div class="actions"><button class="secondary" name="decision" value="deny">Deny</button><button class="primary" name="decision" value="approve" autofocus>Approve</button></div></form>`,
  );
}

/** Handles the consent form: verifies CSRF and browser binding, then approves or denies. */
export async function consentDecision(core: Core, request: Request): Promise<Response> {
  const form = await readForm(request);
  const pendingId = form.get('pending') ?? '';
  const record = await loadPendingRecord(core, pendingId);
  if (!record?.identity)
    return errorPage(
      'invalid_request',
      'This authorization request has expired; start again from the application',
    );
  if (
    !(await browserMatches(core, request, record)) ||
    !(await verifyCsrf(core, request, pendingId, form.get('csrf') ?? ''))
  ) {
    return errorPage(
      'invalid_request',
      'The form could not be verified (CSRF check failed); start again from the application',
      403,
    );
  }
  const opened = await core.keys.open(record.identity, `identity:${pendingId}`);
  if (!opened) return errorPage('invalid_request', 'This authorization request can no longer be completed');
  if (form.get('decision') !== 'approve') {
    await core.records.delete('pending', pendingId);
    core.config.onEvent({
      type: 'authorization_denied',
      clientId: record.clientId,
      reason: 'user denied consent',
    });
    return redirectWithError(
      core,
      record.redirectUri,
      'access_denied',
      'The user denied the request',
      record.state,
    );
  }
  return finishAuthorization(core, pendingId, record, JSON.parse(opened) as Identity);
}
