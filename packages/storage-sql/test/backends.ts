import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import {
  d1Storage,
  mysqlStorage,
  pgliteStorage,
  postgresStorage,
  type SqlStorage,
  type SqlStorageOptions,
  sqliteStorage,
} from '@portcullis/storage-sql';
import { Miniflare } from 'miniflare';
import { dropTables } from './drop.js';

/** A database the tests can open several storages on, each with its own connection where possible. */
export interface Backend {
  /** A new storage on the shared database, on a connection (or pool) of its own when the backend has them. */
  open(options: SqlStorageOptions): SqlStorage;
  /** Closes everything the backend opened, dropping the tables of the storages it handed out. */
  teardown(): Promise<void>;
}

/** How to start one backend. */
export interface BackendSpec {
  readonly name: string;
  start(): Promise<Backend>;
}

function tracking(open: (options: SqlStorageOptions) => SqlStorage, finish: () => Promise<void>): Backend {
  const opened: SqlStorage[] = [];
  return {
    open(options) {
      const storage = open(options);
      opened.push(storage);
      return storage;
    },
    async teardown() {
      for (const storage of opened) await dropTables(storage).catch(() => {});
      for (const storage of opened) await storage.close().catch(() => {});
      await finish();
    },
  };
}

/** The backends that always run here, plus PostgreSQL and MariaDB when their URLs are given. */
export function backends(urls: { postgres?: string; mysql?: string }): BackendSpec[] {
  const specs: BackendSpec[] = [
    {
      name: 'sqlite file',
      async start() {
        const dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'));
        const file = join(dir, 'db.sqlite');
        return tracking(
          (options) => sqliteStorage(file, options),
          async () => rmSync(dir, { recursive: true, force: true }),
        );
      },
    },
    {
      name: 'pglite',
      async start() {
        const db = await PGlite.create();
        return tracking(
          (options) => pgliteStorage(db, options),
          () => db.close(),
        );
      },
    },
    {
      name: 'd1',
      async start() {
        const mf = new Miniflare({
          modules: true,
          script: 'export default { fetch() { return new Response("") } }',
          d1Databases: ['DB'],
        });
        const db = await mf.getD1Database('DB');
        return tracking(
          (options) => d1Storage(db, options),
          () => mf.dispose(),
        );
      },
    },
  ];
  const { postgres, mysql: mysqlUrl } = urls;
  if (postgres) {
    specs.push({
      name: 'postgresql',
      async start() {
        return tracking(
          (options) => postgresStorage(postgres, options),
          async () => {},
        );
      },
    });
  }
  if (mysqlUrl) {
    specs.push({
      name: 'mysql',
      async start() {
        return tracking(
          (options) => mysqlStorage(mysqlUrl, options),
          async () => {},
        );
      },
    });
  }
  return specs;
}
