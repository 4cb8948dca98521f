import { timingSafeEqual } from '../crypto/hash.js';
import { readForm } from '../http/body.js';
import { accessRequestHtml, escapeHtml, flowInputs } from '../pages/html.js';
import type { PendingAuthorization } from '../types.js';
import type { IdentityUpstream, UpstreamContext, UpstreamOutcome } from '../upstream.js';

/** Options of {@link pinUpstream}. */
export interface PinUpstreamOptions {
  /** The PIN or passphrase; at least 6 characters. */
  readonly pin: string;
  /** The user id of the PIN holder; default `owner`. */
  readonly userId?: string;
  readonly email?: string;
  readonly name?: string;
  /** Wrong PINs allowed per authorization request before it is cancelled; default 5. */
  readonly maxAttemptsPerRequest?: number;
  /** PIN attempts allowed per client IP per window (when the adapter reports IPs); default 20. */
  readonly maxAttemptsPerClient?: number;
  /** PIN attempts allowed across all callers per window; default 100. */
  readonly maxAttemptsPerWindow?: number;
  /** The window of the per-client and global limits in milliseconds; default 15 minutes. */
  readonly windowMs?: number;
  /** Name shown on the page; default `this server`. */
  readonly serviceName?: string;
}

/**
 * PIN/passphrase consent: the zero-dependency identity upstream. The page shows which client asks for
 * what; entering the PIN authenticates the PIN holder and approves the request. Constant-time check,
 * CSRF-protected, attempt-limited per request, per client IP and globally (a wide global limit, so one
 * attacker cannot easily lock the owner out).
 *
 * @example
 * ```ts
 * const upstream = pinUpstream({ pin: env.AUTH_PIN });
 * ```
 */
export function pinUpstream(options: PinUpstreamOptions): IdentityUpstream {
  if (typeof options.pin !== 'string' || options.pin.length < 6) {
    throw new TypeError('pinUpstream: the PIN must be at least 6 characters');
  }
  const perRequest = options.maxAttemptsPerRequest ?? 5;
  const perClient = options.maxAttemptsPerClient ?? 20;
  const perWindow = options.maxAttemptsPerWindow ?? 100;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const path = '/authorize/pin';

  async function page(
    ctx: UpstreamContext,
    pending: PendingAuthorization,
    error?: string,
    status = 200,
  ): Promise<Response> {
    const csrf = await ctx.csrfToken(pending.id);
    const view = accessRequestHtml({
      serviceName: options.serviceName ?? 'this server',
      clientName: pending.client.clientName ?? 'An application',
      clientId: pending.client.clientId,
      redirectUri: pending.client.redirectUri,
      scopes: pending.scopes,
      resource: pending.resource,
    });
    const alert = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
    return ctx.html(
      `${view}${alert}<form method="post" action="${escapeHtml(ctx.url(path))}">${flowInputs(pending.id, csrf)}
<label for="pin">PIN</label><input id="pin" name="pin" type="password" autocomplete="current-password" required autofocus>
<div class="actions"><button class="secondary" name="decision" value="deny" formnovalidate>Deny</button><button class="primary" name="decision" value="approve">Authorize access</button></div></form>`,
      { status, title: `Authorize ${pending.client.clientName ?? 'application'}` },
    );
  }

  return {
    name: 'pin',
    routes: [{ method: 'POST', path }],
    begin: (pending, _request, ctx) => page(ctx, pending),
    async handle(request, ctx): Promise<UpstreamOutcome> {
      const form = await readForm(request);
      const pendingId = form.get('pending') ?? '';
      const pending = await ctx.loadPending(pendingId);
      const fail = (message: string, status: number): UpstreamOutcome => ({
        type: 'response',
        response: ctx.html(`<h1>Authorization failed</h1><p class="error">${escapeHtml(message)}</p>`, {
          status,
        }),
      });
      if (!pending)
        return fail('This authorization request has expired; start again from the application.', 400);
      if (!(await ctx.verifyCsrfToken(pendingId, form.get('csrf') ?? ''))) {
        return fail(
          'The form could not be verified (CSRF check failed); start again from the application.',
          403,
        );
      }
      if (form.get('decision') === 'deny')
        return { type: 'denied', pendingId, reason: 'The user denied the request' };
      // Every attempt counts before the PIN is checked, so parallel guesses cannot outrun the limits.
      const [inRequest, inWindow, fromClient] = await Promise.all([
        ctx.countAttempt(`pin:${pendingId}`, 3_600_000),
        ctx.countAttempt('pin:all', windowMs),
        ctx.clientIp ? ctx.countAttempt(`pin:ip:${ctx.clientIp}`, windowMs) : 0,
      ]);
      if (inRequest > perRequest || fromClient > perClient || inWindow > perWindow) {
        ctx.loginFailed('too many PIN attempts');
        return { type: 'denied', pendingId, reason: 'Too many PIN attempts' };
      }
      if (!(await timingSafeEqual(form.get('pin') ?? '', options.pin))) {
        ctx.loginFailed('wrong PIN');
        return { type: 'response', response: await page(ctx, pending, 'Wrong PIN. Try again.', 401) };
      }
      return {
        type: 'identity',
        pendingId,
        identity: {
          userId: options.userId ?? 'owner',
          ...(options.email ? { email: options.email } : {}),
          ...(options.name ? { name: options.name } : {}),
          consented: true,
        },
      };
    },
  };
}
