import { sha256, timingSafeEqual } from '../crypto/hash.js';
import { readCookie } from '../http/cookies.js';
import type { StoreContext } from '../stores/context.js';
import { browserLinkRecord, type PendingRecord } from '../stores/schemas.js';

/** Earlier cookie values of one browser that stay linked to its current one. */
const MAX_LINKED = 4;

/** Name of the cookie binding an authorization flow to the browser that started it. */
export const flowCookieName = (secure: boolean): string =>
  secure ? '__Host-portcullis-flow' : 'portcullis-flow';

/**
 * Binds each authorization flow to the browser that started it (RFC 9700 §4.7): a cookie whose value
 * is always generated here at `/authorize` — a value the browser brings is never adopted (session
 * fixation) — and whose hash the pending request keeps. Earlier values of the same browser are linked
 * to the new one, so two flows started in two tabs both finish.
 */
export class BrowserBinding {
  readonly #core: StoreContext;
  readonly #secure: boolean;
  readonly cookieName: string;

  constructor(core: StoreContext) {
    this.#core = core;
    this.#secure = core.config.issuerUrl.protocol === 'https:';
    this.cookieName = flowCookieName(this.#secure);
  }

  /** A fresh binding for a new flow; links the browser's previous value, if it brought one. */
  async begin(request: Request): Promise<{ value: string; hash: string }> {
    const core = this.#core;
    const value = core.token();
    const hash = await sha256(value);
    const previous = readCookie(request, this.cookieName);
    if (previous && /^[A-Za-z0-9_-]{43}$/.test(previous)) {
      const previousHash = await sha256(previous);
      const earlier = await core.records.get('pending', `browser:${previousHash}`, browserLinkRecord);
      const expiresAt = core.now() + core.config.lifetimes.pending * 1000;
      const linked = [previousHash, ...(earlier?.previous ?? [])].slice(0, MAX_LINKED);
      await core.records.put('pending', `browser:${hash}`, { previous: linked, expiresAt }, expiresAt);
    }
    return { value, hash };
  }

  /** The response with the flow cookie set (host-only, HttpOnly, SameSite=Lax, Secure on https). */
  setCookie(response: Response, value: string): Response {
    const out = new Response(response.body, response);
    const secure = this.#secure ? '; Secure' : '';
    const maxAge = this.#core.config.lifetimes.pending;
    out.headers.append(
      'Set-Cookie',
      `${this.cookieName}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`,
    );
    return out;
  }

  /** Whether this request comes from the browser the pending request is bound to. */
  async matches(request: Request, record: PendingRecord): Promise<boolean> {
    const cookie = readCookie(request, this.cookieName);
    return cookie !== undefined && this.matchesValue(cookie, record);
  }

  /** Whether a cookie value (current, or linked to an earlier one) is the pending request's binding. */
  async matchesValue(value: string, record: PendingRecord): Promise<boolean> {
    const hash = await sha256(value);
    if (await timingSafeEqual(hash, record.browserHash)) return true;
    const link = await this.#core.records.get('pending', `browser:${hash}`, browserLinkRecord);
    if (!link) return false;
    const checks = await Promise.all(link.previous.map((h) => timingSafeEqual(h, record.browserHash)));
    return checks.includes(true);
  }

  /** CSRF token of a pending request's forms: a MAC over its id and its browser binding. */
  csrfToken(pendingId: string, record: PendingRecord): Promise<string> {
    return this.#core.keys.mac(`csrf|${pendingId}|${record.browserHash}`);
  }

  /** Constant-time check of a CSRF token made by {@link csrfToken}. */
  verifyCsrf(pendingId: string, record: PendingRecord, token: string): Promise<boolean> {
    return this.#core.keys.verifyMac(`csrf|${pendingId}|${record.browserHash}`, token);
  }
}
