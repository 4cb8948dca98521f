import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MemoryStorage, type Storage } from '@portcullis/core';
import { ConfigError } from './config.js';

/** What {@link openStorage} opened, for the start-up banner (never includes credentials). */
export interface OpenedStorage {
  readonly storage: Storage;
  /** e.g. `sqlite .portcullis/portcullis.db`, `postgres 127.0.0.1:5432/app`, `memory`. */
  readonly description: string;
}

const SQL_PREFIX = /^[a-z0-9_]+$/;

function safeLocation(url: URL): string {
  return `${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
}

async function importPeer<T>(name: string, scheme: string): Promise<T> {
  try {
    return (await import(/* @vite-ignore */ name)) as T;
  } catch {
    throw new ConfigError(`STORAGE_URL ${scheme} needs the '${name}' package: npm install ${name}`);
  }
}

/**
 * Opens the storage a `STORAGE_URL` names: a SQLite file path (or `sqlite:<path>`; its directory is
 * created), `postgres://`, `mysql://`, `redis://`/`rediss://`, or `memory:` (lost on restart).
 * @throws ConfigError for an unknown scheme, a malformed URL or a missing driver package.
 */
export async function openStorage(location: string, prefix?: string): Promise<OpenedStorage> {
  if (location === 'memory:' || location === 'memory') {
    return { storage: new MemoryStorage(), description: 'memory (not persistent)' };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(location)?.[1]?.toLowerCase();
  const sqlPrefix = () => {
    if (prefix !== undefined && !SQL_PREFIX.test(prefix)) {
      throw new ConfigError(
        'invalid configuration: STORAGE_PREFIX (storagePrefix) must be a-z, 0-9 and _ for SQL',
      );
    }
    return prefix === undefined ? {} : { tablePrefix: prefix };
  };
  if (scheme === undefined || scheme === 'sqlite' || scheme === 'file' || /^[a-z]$/i.test(scheme)) {
    const path = scheme === 'sqlite' || scheme === 'file' ? location.slice(scheme.length + 1) : location;
    if (!path)
      throw new ConfigError('invalid configuration: STORAGE_URL (storageUrl) has an empty SQLite path');
    await importPeer('better-sqlite3', 'sqlite');
    if (path !== ':memory:') await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const { sqliteStorage } = await import('@portcullis/storage-sql');
    return { storage: sqliteStorage(path, sqlPrefix()), description: `sqlite ${path}` };
  }
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new ConfigError('invalid configuration: STORAGE_URL (storageUrl) is not a valid URL');
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    await importPeer('pg', 'postgres://');
    const { postgresStorage } = await import('@portcullis/storage-sql');
    return { storage: postgresStorage(location, sqlPrefix()), description: `postgres ${safeLocation(url)}` };
  }
  if (scheme === 'mysql' || scheme === 'mariadb') {
    await importPeer('mysql2', `${scheme}://`);
    const { mysqlStorage } = await import('@portcullis/storage-sql');
    return { storage: mysqlStorage(location, sqlPrefix()), description: `mysql ${safeLocation(url)}` };
  }
  if (scheme === 'redis' || scheme === 'rediss') {
    const { Redis } = await importPeer<typeof import('ioredis')>('ioredis', 'redis://');
    const { redisStorage } = await import('@portcullis/storage-kv');
    const client = new Redis(location, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await client.connect().catch((error: unknown) => {
      client.disconnect();
      throw new ConfigError(`cannot connect to redis ${safeLocation(url)}: ${(error as Error).message}`);
    });
    return {
      storage: redisStorage({ client, prefix: prefix ?? 'portcullis:', quitOnClose: true }),
      description: `redis ${safeLocation(url)}`,
    };
  }
  throw new ConfigError(
    `invalid configuration: STORAGE_URL (storageUrl) scheme '${scheme}:' is not supported (use a file path, postgres://, mysql://, redis:// or memory:)`,
  );
}
