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

  // From Node, every D1 call crosses miniflare's loopback HTTP proxy, which drops sockets when dozens
  // of calls race on a loaded machine; 20 racers still prove atomicity here, and d1-worker.test.ts
  // races inside workerd itself, the production path.
  storageContract('d1', {
    create: (clock) => d1Storage(db, { now: clock.now, tablePrefix: uniquePrefix() }),
    concurrency: 20,
  });
});
