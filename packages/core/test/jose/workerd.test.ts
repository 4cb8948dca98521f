/**
 * The JOSE building blocks inside real workerd (Miniflare): they run on WebCrypto alone, and what they
 * sign there verifies with jose on Node.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker } from '../../../adapter-workers/test/workerd.js';

/** The part of Miniflare this test uses (the package is a dependency of adapter-workers). */
interface MiniflareLike {
  dispatchFetch(url: string): Promise<{ status: number; json(): Promise<unknown> }>;
  dispose(): Promise<void>;
}

let mf: MiniflareLike;
beforeAll(async () => {
  const resolve = createRequire(new URL('../../../adapter-workers/package.json', import.meta.url)).resolve;
  const { Miniflare } = (await import(pathToFileURL(resolve('miniflare')).href)) as {
    Miniflare: new (options: Record<string, unknown>) => MiniflareLike;
  };
  const script = await bundleWorker(fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url)));
  expect(script).not.toMatch(/from\s*["']node:/);
  mf = new Miniflare({ modules: true, script, compatibilityDate: '2025-07-01' });
}, 120_000);
afterAll(async () => {
  await mf?.dispose();
});

describe('JOSE building blocks on workerd', () => {
  it('sign, verify, rotate-store and check proofs inside the Worker', async () => {
    const response = await mf.dispatchFetch('http://localhost/');
    const report = (await response.json()) as Record<string, unknown>;
    expect(report.error).toBeUndefined();
    expect(response.status).toBe(200);
    expect(report).toMatchObject({
      clientAssertion: 'https://client.example.com/client.json',
      clientAssertionReplay: 'invalid_client',
      dpopFirst: ['use_dpop_nonce', true],
      dpopJkt: true,
      idJag: 'u',
    });
    for (const alg of ['ES256', 'EdDSA']) {
      const { token, subject, jwks, assertion } = report[alg] as {
        token: string;
        subject: string;
        jwks: JSONWebKeySet;
        assertion: string;
      };
      expect(subject).toBe('user-1');
      const keys = createLocalJWKSet(jwks);
      const { protectedHeader } = await jwtVerify(token, keys, {
        typ: 'at+jwt',
        audience: 'https://mcp.example.com/mcp',
      });
      expect(protectedHeader.alg).toBe(alg);
      await jwtVerify(assertion, keys, { audience: 'https://up.example' });
    }
  });
});
