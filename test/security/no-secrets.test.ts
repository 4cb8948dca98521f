/**
 * No secret in logs or at rest. Full flows run with an `onEvent` hook that JSON-stringifies every
 * event into a log and a spy on every console method; afterwards every secret that crossed the wire
 * (PIN, client secret, registration token, codes, access/refresh tokens, upstream IdP tokens, CSRF
 * tokens, flow cookies) is searched for in the captured output and in everything written to storage.
 */
import { createGatewayMetrics } from '@portcullis/cli';
import {
  auditLine,
  createManagement,
  MemoryStorage,
  type PortcullisEvent,
  redirectUriAllowList,
  type Storage,
} from '@portcullis/core';
import { pinUpstream } from '@portcullis/core/upstreams';
import { afterEach, beforeEach, describe, expect, vi } from 'vitest';
import {
  authorizeUrl,
  Browser,
  bearer,
  codeForm,
  ISSUER,
  instantUpstream,
  makeServer,
  openPinPage,
  PIN,
  parseForm,
  postRegister,
  REDIRECT,
  registerClient,
  runCases,
  type SecurityCase,
  submit,
  tokenRequest,
  VERIFIER,
} from '../support/security.js';

/** The server secret of the core test helpers (makeServer). */
const SECRET = 'test-secret-test-secret-test-secret-0123';

/** Wraps a storage and records every key and value written to it. */
class RecordingStorage implements Storage {
  readonly capabilities = { atomic: true };
  readonly written: string[] = [];
  constructor(readonly inner: Storage) {}
  get: Storage['get'] = (kind, key) => this.inner.get(kind, key);
  put: Storage['put'] = (kind, key, value, expiresAt) => {
    this.written.push(`${kind}:${key}`, value);
    return this.inner.put(kind, key, value, expiresAt);
  };
  delete: Storage['delete'] = (kind, key) => this.inner.delete(kind, key);
  consume: Storage['consume'] = (kind, key, now) => this.inner.consume(kind, key, now);
  list: NonNullable<Storage['list']> = (kind, options) => this.inner.list!(kind, options);
  increment: Storage['increment'] = (kind, key, expiresAt) => {
    this.written.push(`${kind}:${key}`);
    return this.inner.increment(kind, key, expiresAt);
  };
}

const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
let consoleOutput: string[] = [];
beforeEach(() => {
  consoleOutput = [];
  for (const method of METHODS) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      consoleOutput.push(
        args.map((a) => (a instanceof Error ? `${a.stack} ${String(a.cause)}` : String(a))).join(' '),
      );
      consoleOutput.push(
        JSON.stringify(args, (_k, v) => (v instanceof Error ? { ...v, message: v.message } : v)),
      );
    });
  }
});
afterEach(() => vi.restoreAllMocks());

/** A server whose events and storage writes are captured, and a place to collect every secret seen. */
function harness(overrides: Parameters<typeof makeServer>[0] = {}) {
  const log: string[] = [];
  const storage = new RecordingStorage(new MemoryStorage());
  const metrics = createGatewayMetrics();
  const ctx = makeServer({
    storage,
    onEvent: (event: PortcullisEvent) => {
      // Both audit forms: the event as the hook gets it, and the CLI's JSON line with its level.
      log.push(JSON.stringify(event), auditLine(event));
      metrics.onEvent(event);
    },
    onStorageCall: metrics.onStorageCall,
    ...overrides,
  });
  const secrets = new Set<string>();
  const keep = (...values: (string | undefined | null)[]) => {
    for (const v of values) if (v) secrets.add(v);
  };
  const browser = new Browser(ctx.server.fetch);
  const check = () => {
    expect(log.length).toBeGreaterThan(0);
    expect(secrets.size).toBeGreaterThan(3);
    const logs = [...log, ...consoleOutput].join('\n');
    for (const secret of secrets) {
      expect(logs, 'secret in logs').not.toContain(secret);
      for (const written of storage.written)
        expect(written, 'secret stored in plain text').not.toContain(secret);
    }
  };
  return { ...ctx, storage, log, keep, secrets, browser, check, metrics };
}

/** The flow cookie and the CSRF token of the browser's current flow are secrets too. */
function keepBrowser(keep: (...v: string[]) => void, browser: Browser, fields: Record<string, string>) {
  keep(...browser.cookies.values(), fields.csrf ?? '');
}

const cases: SecurityCase[] = [
  {
    source: 'RFC 9700 §4.14; DESIGN: secrets never logged',
    name: 'confidential client lifecycle: register, wrong PIN, PIN, code, tokens, refresh, reuse, introspect, revoke, RFC 7592',
    run: async () => {
      const h = harness();
      const { body: client } = await registerClient(h.server.fetch, {
        token_endpoint_auth_method: 'client_secret_basic',
      });
      h.keep(PIN, client.client_secret, client.registration_access_token);
      const basic = { authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}` };

      const { action, fields } = await openPinPage(h.browser, await authorizeUrl(client.client_id!));
      keepBrowser(h.keep, h.browser, fields);
      expect(
        (await submit(h.browser, action, { ...fields, pin: `${PIN}-typo`, decision: 'approve' })).status,
      ).toBe(401);
      const approved = await submit(h.browser, action, { ...fields, pin: PIN, decision: 'approve' });
      const code = new URL(approved.headers.get('location')!).searchParams.get('code')!;
      h.keep(code);
      const form = codeForm(client.client_id!, code);
      delete (form as Partial<typeof form>).client_id;
      const tokens = await (await tokenRequest(h.server.fetch, form, basic)).json();
      h.keep(tokens.access_token, tokens.refresh_token);
      h.clock.advance(20_001); // Past the reuse interval: a repeat within it gets the same tokens (packages/core/test/token-reuse.test.ts).
      expect((await tokenRequest(h.server.fetch, form, basic)).status).toBe(400); // code replay

      const { code: code2 } = await openAndApprove(h, client.client_id!);
      const form2 = codeForm(client.client_id!, code2);
      delete (form2 as Partial<typeof form2>).client_id;
      const t2 = await (await tokenRequest(h.server.fetch, form2, basic)).json();
      h.keep(t2.access_token, t2.refresh_token);
      const refreshed = await (
        await tokenRequest(
          h.server.fetch,
          { grant_type: 'refresh_token', refresh_token: t2.refresh_token },
          basic,
        )
      ).json();
      h.keep(refreshed.access_token, refreshed.refresh_token);
      expect((await bearer(h.server, `Bearer ${refreshed.access_token}`)).ok).toBe(true);
      const introspection = await h.server.fetch(
        new Request(`${ISSUER}/introspect`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic },
          body: new URLSearchParams({ token: refreshed.access_token }),
        }),
      );
      expect((await introspection.json()).active).toBe(true);
      // Reuse of the rotated refresh token, then a revocation and a wrong client secret.
      h.clock.advance(20_001);
      await tokenRequest(
        h.server.fetch,
        { grant_type: 'refresh_token', refresh_token: t2.refresh_token },
        basic,
      );
      await h.server.fetch(
        new Request(`${ISSUER}/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic },
          body: new URLSearchParams({ token: refreshed.refresh_token }),
        }),
      );
      await tokenRequest(
        h.server.fetch,
        { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token },
        { authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}0`)}` },
      );
      const manage = (method: string, body?: string) =>
        h.server.fetch(
          new Request(client.registration_client_uri!, {
            method,
            headers: {
              authorization: `Bearer ${client.registration_access_token}`,
              'content-type': 'application/json',
            },
            ...(body ? { body } : {}),
          }),
        );
      expect((await manage('GET')).status).toBe(200);
      const put = JSON.stringify({
        client_id: client.client_id,
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      expect((await manage('PUT', put)).status).toBe(200);
      expect((await manage('DELETE')).status).toBe(204);
      expect(h.log.some((l) => l.includes('replay_detected'))).toBe(true);
      h.check();
    },
  },
  {
    source: 'MCP security best practices: token passthrough',
    name: 'upstream IdP tokens captured at login reach neither logs nor storage in plain text',
    run: async () => {
      const upstreamToken = {
        accessToken: 'upstream-at-9f8e7d6c5b4a',
        refreshToken: 'upstream-rt-1a2b3c4d5e6f',
      };
      const h = harness({ upstream: instantUpstream({ userId: 'alice', upstreamToken }) });
      h.keep(upstreamToken.accessToken, upstreamToken.refreshToken);
      const { body: client } = await registerClient(h.server.fetch);
      h.keep(client.registration_access_token);
      const page = await h.browser.fetch(await authorizeUrl(client.client_id!));
      const { action, fields } = parseForm(await page.text());
      keepBrowser(h.keep, h.browser, fields);
      const approved = await submit(h.browser, action, { ...fields, decision: 'approve' });
      const code = new URL(approved.headers.get('location')!).searchParams.get('code')!;
      h.keep(code);
      const tokens = await (await tokenRequest(h.server.fetch, codeForm(client.client_id!, code))).json();
      h.keep(tokens.access_token, tokens.refresh_token);
      const auth = await bearer(h.server, `Bearer ${tokens.access_token}`);
      expect(auth.ok && auth.info.upstreamToken?.accessToken).toBe(upstreamToken.accessToken);
      h.check();
    },
  },
  {
    source: 'RFC 6749 §5.2; DESIGN: never a secret in an error',
    name: 'failures (storage outage, bad verifier, foreign client) log no secret and echo none',
    run: async () => {
      const h = harness();
      const { body: client } = await registerClient(h.server.fetch, {
        token_endpoint_auth_method: 'client_secret_post',
      });
      h.keep(PIN, client.client_secret, client.registration_access_token);
      const { code } = await openAndApprove(h, client.client_id!);
      h.keep(code);
      const form = { ...codeForm(client.client_id!, code), client_secret: client.client_secret! };
      const original = h.storage.inner.consume.bind(h.storage.inner);
      h.storage.consume = () => Promise.reject(new Error(`db down while consuming ${code}`));
      const outage = await tokenRequest(h.server.fetch, form);
      expect(outage.status).toBe(503);
      expect(await outage.text()).not.toContain(code);
      h.storage.consume = original;
      const bad = await tokenRequest(h.server.fetch, { ...form, code_verifier: `${VERIFIER}x` });
      expect(bad.status).toBe(400);
      const body = await bad.text();
      for (const secret of h.secrets) expect(body).not.toContain(secret);
      h.check();
    },
  },
  {
    source: 'issue 15: audit log, metrics and admin output never carry a secret',
    name: 'registration policy refusals, rate limits, flow events, management listings and revocations, the configuration view and the Prometheus text log no secret',
    run: async () => {
      const INITIAL = 'initial-access-token-for-no-secrets-0123456789';
      const h = harness({
        clientIp: () => '203.0.113.9',
        registration: {
          initialAccessTokens: [INITIAL],
          rateLimit: { perMinute: 2, perHour: 2 },
          policy: redirectUriAllowList({ hosts: ['client.example.com'] }),
        },
      });
      h.keep(PIN, SECRET, INITIAL, `${INITIAL}x`);
      const json = { 'content-type': 'application/json' };
      const body = (redirect: string) => JSON.stringify({ redirect_uris: [redirect], client_name: 'C' });
      // Refused: no token, a wrong token (a secret-looking value), a redirect off the allow-list.
      expect((await postRegister(h.server, body(REDIRECT))).status).toBe(401);
      expect(
        (await postRegister(h.server, body(REDIRECT), { ...json, authorization: `Bearer ${INITIAL}x` }))
          .status,
      ).toBe(401);
      const auth = { ...json, authorization: `Bearer ${INITIAL}` };
      expect((await postRegister(h.server, body('https://evil.test/cb'), auth)).status).toBe(400);
      const registered = await (
        await postRegister(
          h.server,
          JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' }),
          auth,
        )
      ).json();
      h.keep(registered.client_secret, registered.registration_access_token);
      await postRegister(h.server, body(REDIRECT), auth);
      expect((await postRegister(h.server, body(REDIRECT), auth)).status).toBe(429);
      const { code } = await openAndApprove(h, registered.client_id);
      h.keep(code);
      const tokens = await (
        await tokenRequest(h.server.fetch, {
          ...codeForm(registered.client_id, code),
          client_secret: registered.client_secret,
        })
      ).json();
      h.keep(tokens.access_token, tokens.refresh_token);
      for (const type of ['registration_refused', 'rate_limited', 'authorization_started']) {
        expect(h.log.some((l) => l.includes(`"type":"${type}"`))).toBe(true);
      }

      const management = createManagement({
        issuer: ISSUER,
        storage: h.storage,
        upstream: pinUpstream({ pin: PIN }),
        secret: SECRET,
        now: h.clock.now,
        registration: { initialAccessTokens: [INITIAL] },
        onEvent: (event) => void h.log.push(auditLine(event)),
      });
      const [grant] = await management.grants({ clientId: registered.client_id });
      h.log.push(
        JSON.stringify(await management.clients()),
        JSON.stringify(await management.grants()),
        JSON.stringify(await management.grants({ userId: grant!.userId })),
        JSON.stringify(await management.configuration()),
        JSON.stringify(await management.secretStatus()),
        JSON.stringify(await management.revokeUser(grant!.userId)),
        JSON.stringify(await management.deleteClient(registered.client_id)),
        JSON.stringify(await management.purge()),
        await h.metrics.registry.metrics(),
      );
      expect(h.log.some((l) => l.includes('"type":"grant_revoked"'))).toBe(true);
      h.check();
    },
  },
];

/** Opens the PIN page in the harness browser and approves; remembers the browser's secrets. */
async function openAndApprove(h: ReturnType<typeof harness>, clientId: string) {
  const { action, fields } = await openPinPage(h.browser, await authorizeUrl(clientId));
  keepBrowser(h.keep, h.browser, fields);
  const approved = await submit(h.browser, action, { ...fields, pin: PIN, decision: 'approve' });
  expect(approved.status).toBe(302);
  return { code: new URL(approved.headers.get('location')!).searchParams.get('code')! };
}

describe('security: no secrets in logs or at rest', () => runCases(cases));
