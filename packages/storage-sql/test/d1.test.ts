import { storageContract } from '@portcullis/core/testkit';
import { type D1Binding, d1Storage } from '@portcullis/storage-sql';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe } from 'vitest';
import { uniquePrefix } from './helpers.js';

describe('cloudflare d1 (workerd via miniflare)', () => {
  let mf: Miniflare;
  let db: D1Binding;
  beforeAll(async () => {
    mf = new Miniflare({
      modules: true,
      script: 'export default { fetch() { return new Response("") } }',
      d1Databases: ['DB'],
    });
    db = await mf.getD1Database('DB');
  });
  afterAll(() => mf.dispose());

  storageContract('d1', {
    create: (clock) => d1Storage(db, { now: clock.now, tablePrefix: uniquePrefix() }),
  });
});
