import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { expect } from 'vitest';
import { KeyRing } from '../../src/crypto/keys.js';
import { storageReplayGuard } from '../../src/jose/storage-adapters.js';
import { JoseError, type JoseErrorCode } from '../../src/jose/types.js';
import { MemoryStorage } from '../../src/storage/memory.js';

export const ISSUER = 'https://as.example.com';
export const SECRET = 'jose-test-secret-jose-test-secret-0123456789';

/** A clock the tests move by hand. */
export function manualClock(start = Date.UTC(2030, 0, 1)) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
    set(ms: number) {
      time = ms;
    },
  };
}

/** A real key pair of one of the accepted algorithms, with its public JWK (kid set). */
export async function keyPair(alg: 'RS256' | 'PS256' | 'ES256' | 'EdDSA', kid = `${alg}-key`) {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
  return { ...pair, publicJwk, kid, alg };
}

/** A replay guard over a fresh MemoryStorage. */
export function memoryGuard(now: () => number = Date.now) {
  const storage = new MemoryStorage({ now });
  return { storage, guard: storageReplayGuard(storage) };
}

export const keyRing = (secret = SECRET) => new KeyRing([secret]);

/** Awaits a rejection and checks it is a JoseError with `code` whose description matches. */
export async function refused(promise: Promise<unknown>, code: JoseErrorCode, description?: RegExp) {
  const error = await promise.then(
    () => {
      throw new Error(`expected a ${code} refusal, got success`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JoseError);
  const jose = error as JoseError;
  expect(jose.code).toBe(code);
  if (description) expect(jose.description).toMatch(description);
  return jose;
}

/** A real HTTP server on 127.0.0.1, port 0. */
export async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A fetch that sends `https://<public host>/…` to a local server, as a DNS answer would: the URL guard
 * sees the public name, the bytes travel over real HTTP.
 */
export function routedFetch(origin: string) {
  const calls: string[] = [];
  const fetchFn = (input: string, init: RequestInit) => {
    calls.push(input);
    const url = new URL(input);
    return fetch(`${origin}${url.pathname}${url.search}`, init);
  };
  return { fetch: fetchFn, calls };
}
