import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src/index.ts', import.meta.url));

// The storage runs inside workerd itself, bundled as a Worker would be: proves it needs no Node module.
const worker = `
import { d1Storage } from '@portcullis/storage-sql';
export default {
  async fetch(request, env) {
    const storage = d1Storage(env.DB, { tablePrefix: 'in_worker_' });
    const migration = await storage.migrate();
    const now = Date.now();
    await storage.put('code', 'k', 'payload', now + 60000);
    const results = await Promise.all(Array.from({ length: 25 }, () => storage.consume('code', 'k', now)));
    const counts = await Promise.all(Array.from({ length: 10 }, () => storage.increment('counter', 'c', now + 60000)));
    return Response.json({
      migration,
      consumed: results.filter((r) => r.status === 'consumed').length,
      replays: results.filter((r) => r.status === 'already_consumed').length,
      counts: counts.sort((a, b) => a - b),
      record: await storage.get('code', 'k'),
    });
  },
};`;

describe('d1 inside workerd', () => {
  let mf: Miniflare | undefined;
  afterAll(() => mf?.dispose());

  it('bundles for a neutral platform without Node builtins and runs atomically in workerd', async () => {
    const bundle = await build({
      stdin: { contents: worker, loader: 'js', resolveDir: fileURLToPath(new URL('.', import.meta.url)) },
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      write: false,
      logLevel: 'silent',
      alias: { '@portcullis/storage-sql': src },
    });
    const script = bundle.outputFiles[0]!.text;
    expect(script).not.toMatch(/from ["']node:/);
    mf = new Miniflare({ modules: true, script, d1Databases: ['DB'], compatibilityDate: '2025-07-01' });
    const response = await mf.dispatchFetch('http://localhost/');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.migration).toEqual({ version: 1, applied: [1] });
    expect(body.consumed).toBe(1);
    expect(body.replays).toBe(24);
    expect(body.counts).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(body.record).toMatchObject({ value: 'payload', consumedAt: expect.any(Number) });
  });
});
