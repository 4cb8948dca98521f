/**
 * The extensions inside real workerd (Miniflare): private_key_jwt, client credentials and token
 * exchange run on WebCrypto alone, with the same refusals as on Node.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker } from '../../../adapter-workers/test/workerd.js';

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

describe('extensions on workerd', () => {
  it('authenticate with private_key_jwt, refuse its replay, issue and exchange tokens', async () => {
    const response = await mf.dispatchFetch('http://localhost/run');
    const report = (await response.json()) as Record<string, unknown>;
    expect(report.error).toBeUndefined();
    expect(report).toMatchObject({
      registered: 201,
      token: 200,
      replay: [401, 'invalid_client'],
      exchanged: [200, 'urn:ietf:params:oauth:token-type:access_token'],
    });
    expect(report.act).toEqual({ sub: report.clientId });
  });
});
