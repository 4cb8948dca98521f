import { consentPage } from './consent.js';
import type { Core } from './context.js';
import { timingSafeEqual } from './crypto/hash.js';
import { OAuthError } from './errors.js';
import { finishAuthorization } from './grant.js';
import { readCookie } from './http.js';
import { errorPage, htmlPage } from './pages/html.js';
import { loadClient } from './policy/client-id-document.js';
import { type ClientRecord, consentRecord, type PendingRecord, pendingRecord } from './records.js';
import type { Identity, PendingAuthorization } from './types.js';
import type { UpstreamContext, UpstreamOutcome } from './upstream.js';

/** A validated authorization request, before the user is known. */
export interface AuthorizationParams {
  readonly client: ClientRecord;
  readonly redirectUri: string;
  /** Whether the request named redirect_uri explicitly. */
  readonly redirectUriSent: boolean;
  readonly state: string | undefined;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  readonly resource: string;
}

/** Builds a redirect to the client with `iss` (RFC 9207 §2) and `state`, plus the given parameters. */
export function redirectToClient(
  core: Core,
  redirectUri: string,
  params: Record<string, string | undefined>,
): Response {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value);
  url.searchParams.set('iss', core.config.issuer);
  return new Response(null, {
    status: 302,
    headers: { Location: url.toString(), 'Cache-Control': 'no-store' },
  });
}

/** RFC 6749 §4.1.2.1: an error redirected to the (already validated) redirect URI. */
export function redirectWithError(
  core: Core,
  redirectUri: string,
  code: string,
  description: string,
  state: string | undefined,
): Response {
  return redirectToClient(core, redirectUri, { error: code, error_description: description, state });
}

const pendingKey = (id: string) => id;

/** Loads a live pending authorization record. */
export async function loadPendingRecord(core: Core, id: string): Promise<PendingRecord | null> {
  if (!/^[A-Za-z0-9_-]{20,64}$/.test(id)) return null;
  const record = await core.records.get('pending', pendingKey(id), pendingRecord);
  return record && record.expiresAt > core.now() ? record : null;
}

/** Saves a pending record, keeping its expiry. */
export const savePendingRecord = (core: Core, id: string, record: PendingRecord) =>
  core.records.put('pending', pendingKey(id), record, record.expiresAt);

/** The public view of a pending record handed to upstreams and pages. */
export async function describePending(
  core: Core,
  id: string,
  record: PendingRecord,
): Promise<PendingAuthorization | null> {
  const client = await loadClient(core, record.clientId);
  if (!client) return null;
  return {
    id,
    client: {
      clientId: client.clientId,
      clientName: client.clientName,
      clientUri: client.clientUri,
      logoUri: client.logoUri,
      redirectUri: record.redirectUri,
    },
    scopes: record.scopes,
    resource: record.resource,
    expiresAt: record.expiresAt,
  };
}

/** Validates the browser binding: the flow must finish in the browser that started it. */
export async function browserMatches(core: Core, request: Request, record: PendingRecord): Promise<boolean> {
  const cookie = readCookie(request, core.flowCookie);
  return cookie !== undefined && (await timingSafeEqual(await core.hash(cookie), record.browserHash));
}

/** Stores the pending request, binds it to the browser and hands it to the identity upstream. */
export async function startFlow(
  core: Core,
  request: Request,
  params: AuthorizationParams,
): Promise<Response> {
  const existing = readCookie(request, core.flowCookie);
  const browser = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : core.token();
  const id = core.token();
  const record: PendingRecord = {
    clientId: params.client.clientId,
    redirectUri: params.redirectUri,
    redirectUriSent: params.redirectUriSent,
    state: params.state,
    codeChallenge: params.codeChallenge,
    scopes: [...params.scopes],
    resource: params.resource,
    browserHash: await core.hash(browser),
    expiresAt: core.now() + core.config.lifetimes.pending * 1000,
  };
  await savePendingRecord(core, id, record);
  const pending = await describePending(core, id, record);
  if (!pending) return errorPage('invalid_client', 'This client is not registered');
  const ctx = upstreamContext(core, request, browser);
  const begun = await core.config.upstream.begin(pending, request, ctx);
  const response = begun instanceof Response ? begun : await settleOutcome(core, request, begun, browser);
  return setFlowCookie(core, response, browser);
}

function setFlowCookie(core: Core, response: Response, browser: string): Response {
  const out = new Response(response.body, response);
  const attributes = core.secureCookies ? '; Secure' : '';
  const maxAge = core.config.lifetimes.pending;
  out.headers.append(
    'Set-Cookie',
    `${core.flowCookie}=${browser}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${attributes}`,
  );
  return out;
}

/** Turns an upstream outcome into the response: finish the authorization or pass the page through. */
export async function settleOutcome(
  core: Core,
  request: Request,
  outcome: UpstreamOutcome,
  browser?: string,
): Promise<Response> {
  if (outcome.type === 'response') return outcome.response;
  if (outcome.type === 'denied') return denyPending(core, outcome.pendingId, outcome.reason);
  return completeWithIdentity(core, request, outcome.pendingId, outcome.identity, browser);
}

/** The user is known: check the browser binding and consent, then issue the code. */
export async function completeWithIdentity(
  core: Core,
  request: Request,
  pendingId: string,
  identity: Identity,
  browser?: string,
): Promise<Response> {
  const record = await loadPendingRecord(core, pendingId);
  if (!record)
    return errorPage(
      'invalid_request',
      'This authorization request has expired or was already used; start again from the application',
    );
  const bound =
    browser !== undefined
      ? await timingSafeEqual(await core.hash(browser), record.browserHash)
      : await browserMatches(core, request, record);
  if (!bound) {
    return errorPage('invalid_request', 'This authorization must be finished in the browser that started it');
  }
  if (typeof identity.userId !== 'string' || identity.userId.length === 0) {
    throw new OAuthError('server_error', 'The identity upstream returned no user id', 500);
  }
  if (identity.consented) return finishAuthorization(core, pendingId, record, identity);
  if (core.config.rememberConsent && (await consentCovers(core, identity.userId, record))) {
    return finishAuthorization(core, pendingId, record, identity);
  }
  const sealed = await core.keys.seal(JSON.stringify(identity), `identity:${pendingId}`);
  await savePendingRecord(core, pendingId, { ...record, identity: sealed });
  return consentPage(core, browser ?? readCookie(request, core.flowCookie), pendingId, record);
}

/** The consent record key: one per user and client. */
export const consentKey = (core: Core, userId: string, clientId: string) =>
  core.hash(`${userId.length}:${userId}|${clientId}`);

async function consentCovers(core: Core, userId: string, record: PendingRecord): Promise<boolean> {
  const consent = await core.records.get(
    'consent',
    await consentKey(core, userId, record.clientId),
    consentRecord,
  );
  // Consent is asked again when the scopes or the resource grow (confused-deputy protection).
  return (
    consent !== null &&
    record.scopes.every((s) => consent.scopes.includes(s)) &&
    consent.resources.includes(record.resource)
  );
}

/** The {@link UpstreamContext} for one request. */
export function upstreamContext(
  core: Core,
  request: Request,
  browser = readCookie(request, core.flowCookie),
): UpstreamContext {
  return {
    issuer: core.config.issuer,
    clientIp: core.config.clientIp(request),
    url: (path) => core.endpoint(path),
    now: () => core.now(),
    randomToken: (bytes) => core.token('', bytes),
    loadPending: async (id) => {
      const record = await loadPendingRecord(core, id);
      return record ? describePending(core, id, record) : null;
    },
    savePendingState: async (id, state) => {
      const record = await loadPendingRecord(core, id);
      if (!record) throw new OAuthError('invalid_request', 'This authorization request has expired');
      const sealed = await core.keys.seal(JSON.stringify(state), `upstream:${id}`);
      await savePendingRecord(core, id, { ...record, upstreamState: sealed });
    },
    loadPendingState: async (id) => {
      const record = await loadPendingRecord(core, id);
      if (!record?.upstreamState) return null;
      const opened = await core.keys.open(record.upstreamState, `upstream:${id}`);
      return opened ? (JSON.parse(opened) as Record<string, string>) : null;
    },
    // A fixed window that opens with the first attempt (the counter keeps its first expiry).
    countAttempt: (key, windowMs) =>
      core.records.increment('counter', `attempt:${key}`, core.now() + windowMs),
    csrfToken: (pendingId) => csrfToken(core, browser, pendingId),
    verifyCsrfToken: async (pendingId, token) => verifyCsrf(core, request, pendingId, token),
    html: (body, init) => htmlPage(init?.title ?? core.config.serviceName, body, init?.status),
    loginFailed: (reason) =>
      core.config.onEvent({ type: 'login_failed', upstream: core.config.upstream.name, reason }),
  };
}

/** CSRF token: HMAC over the pending id and the browser-binding cookie (double-submit, keyed). */
export async function csrfToken(core: Core, browser: string | undefined, pendingId: string): Promise<string> {
  return core.keys.mac(`csrf|${pendingId}|${browser ?? ''}`);
}

export async function verifyCsrf(
  core: Core,
  request: Request,
  pendingId: string,
  token: string,
): Promise<boolean> {
  const cookie = readCookie(request, core.flowCookie);
  if (!cookie) return false;
  return core.keys.verifyMac(`csrf|${pendingId}|${cookie}`, token);
}

/** Ends a pending authorization with `access_denied` redirected to the client. */
export async function denyPending(core: Core, pendingId: string, reason: string): Promise<Response> {
  const record = await loadPendingRecord(core, pendingId);
  if (!record) return errorPage('access_denied', reason);
  await core.records.delete('pending', pendingId);
  core.config.onEvent({ type: 'authorization_denied', clientId: record.clientId, reason });
  return redirectWithError(core, record.redirectUri, 'access_denied', reason, record.state);
}
