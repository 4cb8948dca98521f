import { escapeHtml } from '../pages/html.js';
import { isSecureOrLoopback } from '../rules/loopback.js';
import type { UpstreamContext, UpstreamOutcome } from '../upstream.js';

/**
 * Who may sign in, by verified email. An identity provider signs in anyone it knows (any Google
 * account), so an upstream with no allow-list refuses to be built unless `allowAnyone` says so.
 */
export interface EmailPolicy {
  /** Email domains allowed to sign in, e.g. `['example.com']` (exact match after `@`, case-insensitive). */
  readonly allowedDomains?: readonly string[];
  /** Individual email addresses allowed to sign in (case-insensitive). */
  readonly allowedEmails?: readonly string[];
  /**
   * `true` admits anyone the identity provider authenticates (subject to any list that is given), an
   * explicit choice: without it an upstream needs at least one allow-list.
   */
  readonly allowAnyone?: boolean;
}

/**
 * Refuses an upstream that would admit anyone by omission: safe by default, loosening is explicit.
 * @param lists the allow-lists the upstream has, by option name (empty arrays count as none).
 */
export function requireSignInChoice(
  upstream: string,
  policy: EmailPolicy,
  lists: Readonly<Record<string, unknown>>,
): void {
  if (policy.allowAnyone === true) return;
  const restricted = Object.values(lists).some((list) =>
    Array.isArray(list) ? list.length > 0 : list !== undefined && Object.keys(list as object).length > 0,
  );
  if (restricted) return;
  throw new TypeError(
    `${upstream}: say who may sign in: set ${Object.keys(lists).join(', ')}, or allowAnyone: true to admit everyone the identity provider knows`,
  );
}

/** Whether `policy` restricts who may sign in. */
export const restrictsEmail = (policy: EmailPolicy): boolean =>
  (policy.allowedDomains?.length ?? 0) > 0 || (policy.allowedEmails?.length ?? 0) > 0;

/** Checks a verified email against the allow-lists; `null` when allowed, else the reason. */
export function emailRefusal(
  email: string | undefined,
  verified: boolean,
  policy: EmailPolicy,
): string | null {
  if (!restrictsEmail(policy)) return null;
  if (!email) return 'the identity provider returned no email address';
  if (!verified) return 'the email address is not verified by the identity provider';
  const lower = email.toLowerCase();
  const domain = lower.slice(lower.lastIndexOf('@') + 1);
  if (policy.allowedEmails?.some((e) => e.toLowerCase() === lower)) return null;
  if (policy.allowedDomains?.some((d) => d.toLowerCase() === domain)) return null;
  return 'this account is not allowed to sign in';
}

/** An error page from an upstream, reporting the failure to the audit hook (never with secrets). */
export function failure(
  ctx: UpstreamContext,
  reason: string,
  message: string,
  status = 400,
): UpstreamOutcome {
  ctx.loginFailed(reason);
  return {
    type: 'response',
    response: ctx.html(`<h1>Sign-in failed</h1><p class="error" role="alert">${escapeHtml(message)}</p>`, {
      status,
      title: 'Sign-in failed',
    }),
  };
}

/** Requires https, or http on loopback. */
export function requireSecureUrl(url: URL, what: string): void {
  if (!isSecureOrLoopback(url)) {
    throw new TypeError(`${what} must use https (http is allowed on loopback only)`);
  }
}

/** The pending id and the random state of a `state` parameter made by {@link joinState}. */
export function splitState(value: string | null): { pendingId: string; nonce: string } | null {
  if (!value) return null;
  const dot = value.indexOf('.');
  if (dot <= 0) return null;
  return { pendingId: value.slice(0, dot), nonce: value.slice(dot + 1) };
}

/** The `state` sent to the IdP: the pending id (to find the flow) and a random value (to bind it). */
export const joinState = (pendingId: string, nonce: string): string => `${pendingId}.${nonce}`;
