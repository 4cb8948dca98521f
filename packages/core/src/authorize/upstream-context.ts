import type { Core } from '../context.js';
import { OAuthError } from '../errors.js';
import { htmlPage } from '../pages/html.js';
import type { UpstreamContext } from '../upstream.js';
import { describePending } from './pending-view.js';

/** The {@link UpstreamContext} an identity upstream gets for one request. */
export function upstreamContext(core: Core, request: Request): UpstreamContext {
  const { pending, browser } = core;
  return {
    issuer: core.config.issuer,
    clientIp: core.config.clientIp(request),
    url: (path) => core.endpoint(path),
    now: () => core.now(),
    randomToken: (bytes) => core.token('', bytes),
    loadPending: async (id) => {
      const record = await pending.load(id);
      return record ? describePending(core, id, record) : null;
    },
    savePendingState: async (id, state) => {
      const record = await pending.load(id);
      if (!record) throw new OAuthError('invalid_request', 'This authorization request has expired');
      await pending.save(id, { ...record, upstreamState: await pending.seal(id, 'upstream', state) });
    },
    loadPendingState: async (id) => {
      const record = await pending.load(id);
      return record ? pending.open<Record<string, string>>(id, 'upstream', record.upstreamState) : null;
    },
    // A fixed window that opens with the first attempt (the counter keeps its first expiry).
    countAttempt: (key, windowMs) =>
      core.records.increment('counter', `attempt:${key}`, core.now() + windowMs),
    csrfToken: async (pendingId) => {
      const record = await pending.load(pendingId);
      if (!record) throw new OAuthError('invalid_request', 'This authorization request has expired');
      return browser.csrfToken(pendingId, record);
    },
    // The token is only valid from the browser the flow is bound to.
    verifyCsrfToken: async (pendingId, token) => {
      const record = await pending.load(pendingId);
      return (
        record !== null &&
        (await browser.matches(request, record)) &&
        (await browser.verifyCsrf(pendingId, record, token))
      );
    },
    html: (body, init) => htmlPage(init?.title ?? core.config.serviceName, body, init?.status),
    loginFailed: (reason) =>
      core.config.onEvent({ type: 'login_failed', upstream: core.config.upstream.name, reason }),
  };
}
