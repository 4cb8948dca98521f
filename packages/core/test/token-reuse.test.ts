/**
 * The reuse interval (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2; RFC 6749 §4.1.2 for codes): a repeat of the
 * same request by the same client shortly after the first use gets the same tokens; every other reuse
 * is still a replay that revokes the grant. Real processes sharing real stores: test/concurrency.
 */
import { MemoryStorage, type Storage } from '@portcullis/core';
import { describe, expect, it } from 'vitest';
import {
  ISSUER,
  makeServer,
  manualClock,
  obtainCode,
  registerClient,
  tokenRequest,
  VERIFIER,
} from './helpers.js';

const REDIRECT = 'https://client.example.com/callback';
type TokenBody = { access_token: string; refresh_token?: string; scope: string; expires_in: number };

async function setup(overrides: Parameters<typeof makeServer>[0] = {}) {
  const ctx = makeServer({ scopes: { supported: ['mcp', 'read'], default: ['mcp'] }, ...overrides });
  const { body: client } = await registerClient(ctx.server.fetch);
  const clientId = client.client_id!;
  const redeem = (code: string, extra: Record<string, string> = {}) =>
    tokenRequest(ctx.server.fetch, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: VERIFIER,
      client_id: clientId,
      ...extra,
    });
  const refresh = (token: string, extra: Record<string, string> = {}) =>
    tokenRequest(ctx.server.fetch, {
      grant_type: 'refresh_token',
      refresh_token: token,
      client_id: clientId,
      ...extra,
    });
  const works = async (accessToken: string) =>
    (
      await ctx.server.authenticate(
        new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${accessToken}` } }),
      )
    ).ok;
  const login = async (): Promise<TokenBody & { code: string }> => {
    const { code } = await obtainCode(ctx.server.fetch, clientId, { scope: 'mcp read' });
    const response = await redeem(code);
    expect(response.status).toBe(200);
    return { ...((await response.json()) as TokenBody), code };
  };
  const kinds = (type: string) => ctx.events.filter((e) => e.type === type);
  return { ...ctx, clientId, redeem, refresh, works, login, kinds };
}

const body = async (response: Response): Promise<TokenBody> => {
  expect(response.status).toBe(200);
  return (await response.json()) as TokenBody;
};

const expectInvalidGrant = async (response: Response, error = 'invalid_grant') => {
  expect(response.status).toBe(400);
  expect(((await response.json()) as { error: string }).error).toBe(error);
};

describe('refresh token reuse interval', () => {
  it('answers a repeat within the interval with the same working pair, without revoking', async () => {
    const s = await setup();
    const first = await s.login();
    const a = await body(await s.refresh(first.refresh_token!));
    s.clock.advance(5_000);
    const b = await body(await s.refresh(first.refresh_token!));
    expect(b.access_token).toBe(a.access_token);
    expect(b.refresh_token).toBe(a.refresh_token);
    expect(a.refresh_token).not.toBe(first.refresh_token);
    expect(b.expires_in).toBe(a.expires_in - 5);
    expect(await s.works(a.access_token)).toBe(true);
    expect(s.kinds('replay_detected')).toHaveLength(0);
    expect(s.kinds('repeat_accepted')).toEqual([
      { type: 'repeat_accepted', what: 'refresh_token', clientId: s.clientId, grantId: expect.any(String) },
    ]);
    // The family goes on: the successor rotates normally.
    const next = await body(await s.refresh(a.refresh_token!));
    expect(await s.works(next.access_token)).toBe(true);
  });

  it('gives all of 20 concurrent refreshes of one token the same pair', async () => {
    const s = await setup();
    const first = await s.login();
    const responses = await Promise.all(Array.from({ length: 20 }, () => s.refresh(first.refresh_token!)));
    const bodies = await Promise.all(responses.map(body));
    expect(new Set(bodies.map((b) => b.access_token)).size).toBe(1);
    expect(new Set(bodies.map((b) => b.refresh_token)).size).toBe(1);
    expect(await s.works(bodies[0]!.access_token)).toBe(true);
    expect(s.kinds('repeat_accepted')).toHaveLength(19);
  });

  it('revokes the family when the token is reused after the interval', async () => {
    const s = await setup();
    const first = await s.login();
    const a = await body(await s.refresh(first.refresh_token!));
    s.clock.advance(20_001);
    await expectInvalidGrant(await s.refresh(first.refresh_token!));
    expect(s.kinds('replay_detected')).toHaveLength(1);
    expect(await s.works(a.access_token)).toBe(false);
    await expectInvalidGrant(await s.refresh(a.refresh_token!));
  });

  it('follows the configured interval, and 0 turns it off', async () => {
    const longer = await setup({ reuseIntervalSeconds: 60 });
    const t = await longer.login();
    const a = await body(await longer.refresh(t.refresh_token!));
    longer.clock.advance(59_000);
    expect((await body(await longer.refresh(t.refresh_token!))).access_token).toBe(a.access_token);

    const off = await setup({ reuseIntervalSeconds: 0 });
    const u = await off.login();
    const b = await body(await off.refresh(u.refresh_token!));
    await expectInvalidGrant(await off.refresh(u.refresh_token!));
    expect(await off.works(b.access_token)).toBe(false);
    expect(() => makeServer({ reuseIntervalSeconds: 301 })).toThrow(/reuseIntervalSeconds/);
  });

  it('refuses another client within the interval without burning or revoking anything', async () => {
    const s = await setup();
    const first = await s.login();
    const a = await body(await s.refresh(first.refresh_token!));
    const { body: stranger } = await registerClient(s.server.fetch);
    await expectInvalidGrant(
      await tokenRequest(s.server.fetch, {
        grant_type: 'refresh_token',
        refresh_token: first.refresh_token!,
        client_id: stranger.client_id!,
      }),
    );
    expect(await s.works(a.access_token)).toBe(true);
    expect((await body(await s.refresh(first.refresh_token!))).access_token).toBe(a.access_token);
  });

  it('refuses a repeat once the grant is revoked, and revives nothing', async () => {
    const s = await setup();
    const first = await s.login();
    const a = await body(await s.refresh(first.refresh_token!));
    const revoked = await s.server.fetch(
      new Request(`${ISSUER}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: a.refresh_token!, client_id: s.clientId }),
      }),
    );
    expect(revoked.status).toBe(200);
    await expectInvalidGrant(await s.refresh(first.refresh_token!));
    expect(await s.works(a.access_token)).toBe(false);
  });

  it('answers a retry that narrows the scope differently with the pair of the first request', async () => {
    const s = await setup();
    const first = await s.login();
    expect(first.scope).toBe('mcp read');
    const narrowed = await body(await s.refresh(first.refresh_token!, { scope: 'read' }));
    expect(narrowed.scope).toBe('read');
    const retry = await body(await s.refresh(first.refresh_token!));
    expect(retry.access_token).toBe(narrowed.access_token);
    // The response states the scope the pair really has (RFC 6749 §5.1), not the one asked again.
    expect(retry.scope).toBe('read');
    const auth = await s.server.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${retry.access_token}` } }),
      { requiredScopes: ['mcp'] },
    );
    expect(auth.ok).toBe(false);
    // A retry asking for more than the grant gets the same pair, never a wider one, and revokes nothing.
    const wider = await body(await s.refresh(first.refresh_token!, { scope: 'mcp read admin' }));
    expect(wider.access_token).toBe(narrowed.access_token);
    expect(wider.scope).toBe('read');
    expect(await s.works(narrowed.access_token)).toBe(true);
  });

  it('answers a repeat after the successor was rotated with the newest pair, and revives nothing', async () => {
    const s = await setup();
    const first = await s.login();
    const a = await body(await s.refresh(first.refresh_token!));
    const b = await body(await s.refresh(a.refresh_token!));
    s.clock.advance(10_000);
    // A late repeat of the first refresh (a process that read the token before the others rotated it).
    const late = await body(await s.refresh(first.refresh_token!));
    expect(late.refresh_token).toBe(b.refresh_token);
    expect(late.access_token).toBe(b.access_token);
    expect(await s.works(late.access_token)).toBe(true);
    // The rotated successor stays consumed: once past its own interval, presenting it is reuse.
    s.clock.advance(15_000);
    await expectInvalidGrant(await s.refresh(a.refresh_token!));
    expect(await s.works(b.access_token)).toBe(false);
  });

  it('survives a refresh whose consume committed but answered 503: the retry gets a working pair', async () => {
    const clock = manualClock();
    const storage = new FlakyStorage(new MemoryStorage({ now: clock.now }));
    const s = await setup({ storage, now: clock.now, storageTimeoutMs: 300 });
    const first = await s.login();
    storage.failAfter = (op, kind) => op === 'consume' && kind === 'refresh';
    const failed = await s.refresh(first.refresh_token!);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('5');
    clock.advance(6_000);
    const retry = await body(await s.refresh(first.refresh_token!));
    expect(await s.works(retry.access_token)).toBe(true);
    expect((await body(await s.refresh(retry.refresh_token!))).access_token).toBeTruthy();
  });

  it('survives a writer that failed after its claim: a repeat writes the missing successor', async () => {
    const clock = manualClock();
    const storage = new FlakyStorage(new MemoryStorage({ now: clock.now }));
    const s = await setup({ storage, now: clock.now, storageTimeoutMs: 300 });
    const first = await s.login();
    storage.failBefore = (op, kind) => op === 'put' && kind === 'refresh';
    expect((await s.refresh(first.refresh_token!)).status).toBe(503);
    clock.advance(6_000);
    const retry = await body(await s.refresh(first.refresh_token!));
    const again = await body(await s.refresh(first.refresh_token!));
    expect(again.refresh_token).toBe(retry.refresh_token);
    expect(await s.works(retry.access_token)).toBe(true);
    expect((await s.refresh(retry.refresh_token!)).status).toBe(200);
  });
});

describe('authorization code redemption retry', () => {
  it('gives the same tokens to the same client, verifier and redirect URI within the interval', async () => {
    const s = await setup();
    const first = await s.login();
    s.clock.advance(3_000);
    const again = await body(await s.redeem(first.code));
    expect(again.access_token).toBe(first.access_token);
    expect(again.refresh_token).toBe(first.refresh_token);
    expect(await s.works(first.access_token)).toBe(true);
    expect(s.kinds('replay_detected')).toHaveLength(0);
    expect(s.kinds('repeat_accepted')).toHaveLength(1);
    expect((await s.refresh(again.refresh_token!)).status).toBe(200);
  });

  it('gives a retry that comes after the first refresh the newest pair of the family', async () => {
    const s = await setup();
    const first = await s.login();
    const a = await body(await s.refresh(first.refresh_token!));
    const again = await body(await s.redeem(first.code));
    expect(again.refresh_token).toBe(a.refresh_token);
    expect(await s.works(again.access_token)).toBe(true);
  });

  it('keeps a code burnt by a failed PKCE check: the right verifier then is a replay', async () => {
    const s = await setup();
    const { code } = await obtainCode(s.server.fetch, s.clientId);
    await expectInvalidGrant(await s.redeem(code, { code_verifier: `${VERIFIER}x` }));
    await expectInvalidGrant(await s.redeem(code));
    expect(s.kinds('replay_detected')).toHaveLength(1);
  });

  it('gives 20 concurrent redemptions of one code the same tokens', async () => {
    const s = await setup();
    const { code } = await obtainCode(s.server.fetch, s.clientId);
    const bodies = await Promise.all(
      (await Promise.all(Array.from({ length: 20 }, () => s.redeem(code)))).map(body),
    );
    expect(new Set(bodies.map((b) => b.access_token)).size).toBe(1);
    expect(await s.works(bodies[0]!.access_token)).toBe(true);
  });

  const replays: [string, (form: Record<string, string>) => void][] = [
    [
      'another PKCE verifier',
      (form) => {
        form.code_verifier = `${VERIFIER}x`;
      },
    ],
    [
      'another redirect URI',
      (form) => {
        form.redirect_uri = 'https://client.example.com/other';
      },
    ],
    [
      'no redirect URI',
      (form) => {
        delete form.redirect_uri;
      },
    ],
  ];
  for (const [name, change] of replays) {
    it(`revokes the grant for a replay with ${name} within the interval`, async () => {
      const s = await setup();
      const first = await s.login();
      const form: Record<string, string> = {
        grant_type: 'authorization_code',
        code: first.code,
        redirect_uri: REDIRECT,
        code_verifier: VERIFIER,
        client_id: s.clientId,
      };
      change(form);
      await expectInvalidGrant(await tokenRequest(s.server.fetch, form));
      expect(s.kinds('replay_detected')).toHaveLength(1);
      expect(await s.works(first.access_token)).toBe(false);
      await expectInvalidGrant(await s.refresh(first.refresh_token!));
    });
  }

  it('revokes the grant for a replay by another client, or after the interval', async () => {
    const s = await setup();
    const first = await s.login();
    const { body: stranger } = await registerClient(s.server.fetch);
    await expectInvalidGrant(await s.redeem(first.code, { client_id: stranger.client_id! }));
    expect(await s.works(first.access_token)).toBe(false);

    const t = await setup();
    const second = await t.login();
    t.clock.advance(20_001);
    await expectInvalidGrant(await t.redeem(second.code));
    expect(await t.works(second.access_token)).toBe(false);
  });
});

type Op = 'get' | 'put' | 'delete' | 'consume' | 'increment';

/**
 * A real MemoryStorage behind a switch that makes one chosen call fail once: `failBefore` fails it
 * without effect, `failAfter` lets it commit and then fails (a timed-out call that committed anyway).
 */
class FlakyStorage implements Storage {
  failBefore: ((op: Op, kind: string) => boolean) | undefined;
  failAfter: ((op: Op, kind: string) => boolean) | undefined;
  constructor(private readonly inner: MemoryStorage) {}
  get capabilities() {
    return this.inner.capabilities;
  }
  async #run<T>(op: Op, kind: string, call: () => Promise<T>): Promise<T> {
    if (this.failBefore?.(op, kind)) {
      this.failBefore = undefined;
      throw new Error('injected failure before the call');
    }
    const result = await call();
    if (this.failAfter?.(op, kind)) {
      this.failAfter = undefined;
      throw new Error('injected failure after the call committed');
    }
    return result;
  }
  get: Storage['get'] = (kind, key) => this.#run('get', kind, () => this.inner.get(kind, key));
  put: Storage['put'] = (kind, key, value, expiresAt) =>
    this.#run('put', kind, () => this.inner.put(kind, key, value, expiresAt));
  delete: Storage['delete'] = (kind, key) => this.#run('delete', kind, () => this.inner.delete(kind, key));
  consume: Storage['consume'] = (kind, key, now) =>
    this.#run('consume', kind, () => this.inner.consume(kind, key, now));
  increment: Storage['increment'] = (kind, key, expiresAt) =>
    this.#run('increment', kind, () => this.inner.increment(kind, key, expiresAt));
}
