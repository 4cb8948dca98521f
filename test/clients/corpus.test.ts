/**
 * The real-client corpus, driven: every client in `corpus/` goes through discovery → registration or
 * CIMD → the PIN page → token → `/mcp` → refresh against a real Portcullis on 127.0.0.1, shaped the way
 * that client does it (see drive.ts). A client whose own bug breaks the flow is asserted to fail exactly
 * as its entry documents.
 */
import { privateKeyJwt } from '@portcullis/core/extensions';
import { describe, expect, it } from 'vitest';
import { loadCorpus, parseEntry } from './corpus.js';
import { jose } from './deps.js';
import { type DriveReport, drive, FlowError } from './drive.js';
import { readCallback } from './harness/authorize.js';
import { publishKey } from './harness/register.js';
import { assertion } from './harness/token.js';
import { makeState } from './harness/values.js';

const corpus = loadCorpus();
const working = corpus.filter((entry) => !entry.known_client_bug);
const buggy = corpus.filter((entry) => entry.known_client_bug);

describe('the corpus', () => {
  it('holds at least 15 distinct clients, the six seeds among them, each with sources and a date', () => {
    const clients = new Set(corpus.map((e) => e.id.replace(/-(dcr|cloud|connector|2025-09|current)$/, '')));
    expect(clients.size).toBeGreaterThanOrEqual(15);
    for (const seed of ['vscode-2025-09', 'vscode-current', 'claude-ai', 'chatgpt', 'cursor', 'mcp-remote'])
      expect(corpus.map((e) => e.id)).toContain(seed);
    for (const entry of corpus) expect(entry.source_urls.length).toBeGreaterThan(0);
  });

  it('refuses an entry that does not follow the schema', () => {
    const [first] = corpus;
    expect(() => parseEntry({ ...first, exactness: { token: 'x' } }, `${first!.id}.json`)).toThrow(
      /exactness/,
    );
    expect(() => parseEntry({ ...first, surprise: 1 }, `${first!.id}.json`)).toThrow(/surprise/);
    expect(() => parseEntry(first, 'other.json')).toThrow(/does not match the file name/);
  });
});

describe('the harness', () => {
  it('signs private_key_jwt assertions that verify with the key set it publishes (RFC 7523 §3)', async () => {
    const chatgpt = corpus.find((e) => e.id === 'chatgpt')!;
    const documents = new Map<string, unknown>();
    const jwksUri = chatgpt.cimd!.jwks_uri!;
    const key = await publishKey(documents, jwksUri, 'RS256');
    const clientId = chatgpt.cimd!.client_id;
    const as = { issuer: 'http://127.0.0.1:9', token_endpoint: 'http://127.0.0.1:9/token' };
    const jwt = await assertion(chatgpt, { method: 'cimd', clientId, grantTypes: [], key }, as);
    const jwks = documents.get(jwksUri) as { keys: Record<string, unknown>[] };
    expect(JSON.stringify(jwks)).not.toMatch(/"(d|p|q|dp|dq|qi)":/);
    const { payload, protectedHeader } = await jose.jwtVerify(jwt, jose.createLocalJWKSet(jwks as never), {
      issuer: clientId,
      subject: clientId,
      audience: as.token_endpoint,
    });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: key.kid });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('checks the state echo byte for byte, + / = included', () => {
    const state = makeState({ format: 'b64-16' })!;
    expect(state).toMatch(/[+/]/);
    const request = {
      url: new URL('http://127.0.0.1:9/authorize'),
      redirectUri: 'http://127.0.0.1:33418/',
      state,
      verifier: 'v',
    };
    const landed = (echoed: string) => {
      const url = new URL('http://127.0.0.1:33418/?code=c&iss=http%3A%2F%2F127.0.0.1%3A9');
      url.search += `&state=${echoed}`;
      return url;
    };
    expect(readCallback(request, landed(encodeURIComponent(state)), 'http://127.0.0.1:9')).toBe('c');
    // A server that puts the state back unencoded turns + into a space: the client refuses it.
    expect(() => readCallback(request, landed(state), 'http://127.0.0.1:9')).toThrow(/state_mismatch/);
  });
});

/** What every completed flow must show, whatever the client. */
function expectCompleted(report: DriveReport, count: number) {
  expect(report.flows).toHaveLength(count);
  for (const flow of report.flows) {
    expect(flow.who.clientId).toBe(flow.clientId);
    expect(flow.who.scopes).toContain('mcp');
    if (flow.refreshed) expect(flow.toolsAfterRefresh).toContain('whoami');
  }
}

describe.each(working.map((entry) => [entry.client, entry] as const))('%s', (_name, entry) => {
  it(`${entry.id}: discovery → ${entry.registration.method} → consent → token → /mcp → refresh`, async () => {
    const report = await drive(entry);
    const count = entry.connections?.count ?? 1;
    expectCompleted(report, count);
    const [flow] = report.flows;
    // The client's own shape reached the server: its state came back byte-exact, its id was used.
    if (flow!.registration === 'cimd') {
      expect(flow!.clientId.startsWith('https://')).toBe(true);
      expect(report.fetched).toContain(flow!.clientId);
    } else if (count > 1) {
      // A client that registers at every connection gets a working client each time. One after the
      // other, identical public re-registrations share one client after the first: two client_ids.
      const ids = new Set(report.flows.map((f) => f.clientId));
      if (entry.connections?.users === 'each') expect(ids.size).toBeGreaterThanOrEqual(2);
      else expect(ids.size).toBe(2);
    }
    if (entry.authorize.state.format === 'b64-16') expect(flow!.state).toMatch(/[+/]/);
  });
});

describe.each(buggy.map((entry) => [entry.client, entry] as const))(
  '%s (known client bug)',
  (_name, entry) => {
    const bug = entry.known_client_bug!;
    it(`${entry.id}: fails at ${bug.fails_at} as documented: ${bug.summary.slice(0, 60)}…`, async () => {
      const failure = await drive(entry).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(FlowError);
      expect(failure).toMatchObject({ step: bug.fails_at, status: bug.status, error: bug.error });
      expect((failure as FlowError).errorDescription).toContain(bug.error_description_includes);
    });
  },
);

/** Clients that authenticate with private_key_jwt when the server advertises it (ChatGPT). */
const assertionClients = working.filter(
  (entry) => Array.isArray(entry.token.auth) && entry.token.auth.includes('private_key_jwt'),
);

describe.each(assertionClients.map((entry) => [entry.client, entry] as const))(
  '%s with privateKeyJwt() installed',
  (_name, entry) => {
    it(`${entry.id}: authenticates with its signed assertion, code and refresh`, async () => {
      const report = await drive(entry, { extensions: [privateKeyJwt()] });
      expectCompleted(report, entry.connections?.count ?? 1);
      for (const flow of report.flows) expect(flow.tokenAuth).toBe('private_key_jwt');
    });
  },
);

it('has clients that use private_key_jwt', () => {
  expect(assertionClients.map((entry) => entry.id)).toContain('chatgpt');
});
