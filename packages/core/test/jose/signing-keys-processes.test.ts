/**
 * Key creation and rotation with several real processes over one SQL database: each process is a server
 * instance (fixtures/key-instance.ts); once all are connected they act at the same moment, and must end
 * with one key set.
 * SQLite (a shared file) always runs; PostgreSQL runs when POSTGRES_URL is set (and is required when
 * PORTCULLIS_REQUIRE_SERVICES=1).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type SqlStorage, sqlStorageFromUrl } from '@portcullis/storage-sql';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { SECRET } from './helpers.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const tsx = `${root}node_modules/tsx/dist/esm/index.mjs`;
const fixture = fileURLToPath(new URL('./fixtures/key-instance.ts', import.meta.url));
const INSTANCES = 4;
const DAY = 86_400_000;
const T0 = Date.UTC(2031, 0, 1);

interface Report {
  kid: string;
  jwks: JSONWebKeySet;
  token: string;
}

const kids = (report: Report) => report.jwks.keys.map((key) => key.kid!);

/** One instance process: `ready` when connected; `act(at)` sends it an instant and reads its report. */
function startInstance(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', tsx, fixture], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', TSX_TSCONFIG_PATH: `${root}tsconfig.json`, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else lines.push(line);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const nextLine = () =>
    Promise.race([
      new Promise<string>((resolve) => {
        const line = lines.shift();
        if (line !== undefined) resolve(line);
        else waiting.push(resolve);
      }),
      exited.then((code) => {
        throw new Error(`instance exited ${code}: ${err.slice(0, 2000)}`);
      }),
    ]);
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  return {
    ready: nextLine(),
    async act(at: number): Promise<Report> {
      child.stdin.write(`${at}\n`);
      return JSON.parse(await nextLine()) as Report;
    },
    async stop() {
      child.stdin.end();
      await exited;
      clearTimeout(timer);
    },
  };
}

type Instance = ReturnType<typeof startInstance>;

/** Sends every instance the same instant at the same moment and collects what each reports. */
const phase = (instances: Instance[], at: number) => Promise.all(instances.map((i) => i.act(at)));

const dir = mkdtempSync(join(tmpdir(), 'portcullis-jose-'));
const stops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
  rmSync(dir, { recursive: true, force: true });
});

const backends: [string, string | undefined][] = [
  ['SQLite (one file, several processes)', `sqlite:${join(dir, 'keys.db')}`],
  ['PostgreSQL', process.env.POSTGRES_URL],
];

describe.each(backends)('signing keys across processes on %s', (name, url) => {
  it.runIf(url || process.env.PORTCULLIS_REQUIRE_SERVICES === '1')(
    'agree on the first key and on each rotation, and verify each other’s tokens',
    async () => {
      if (!url) throw new Error(`${name}: POSTGRES_URL is not set (PORTCULLIS_REQUIRE_SERVICES=1)`);
      const prefix = `jose_${process.pid}_${Math.floor(Math.random() * 1e6)}_`;
      const storage: SqlStorage = sqlStorageFromUrl(url, { tablePrefix: prefix });
      await storage.migrate();
      try {
        const times = [T0, T0 + 29 * DAY + 60_000, T0 + 30 * DAY + 120_000] as const;
        const instances = Array.from({ length: INSTANCES }, () =>
          startInstance({ DB_URL: url, TABLE_PREFIX: prefix, SECRET }),
        );
        stops.push(() => Promise.all(instances.map((i) => i.stop())));
        expect(await Promise.all(instances.map((i) => i.ready))).toEqual(instances.map(() => 'ready'));
        const first = await phase(instances, times[0]);
        expect(new Set(first.map((r) => r.kid)).size).toBe(1);
        expect(first.every((r) => kids(r).join() === first[0]!.kid)).toBe(true);

        const publishing = await phase(instances, times[1]);
        expect(new Set(publishing.map((r) => kids(r).join())).size).toBe(1);
        expect(kids(publishing[0]!)).toHaveLength(2);
        expect(publishing.every((r) => r.kid === first[0]!.kid)).toBe(true);

        const switched = await phase(instances, times[2]);
        const next = kids(publishing[0]!).find((kid) => kid !== first[0]!.kid);
        expect(switched.every((r) => r.kid === next)).toBe(true);
        expect(new Set(switched.map((r) => kids(r).join())).size).toBe(1);

        // Every token an instance minted verifies, with jose, against the set another instance publishes.
        for (const [index, reports] of [first, publishing, switched].entries()) {
          for (const [i, report] of reports.entries()) {
            const other = reports[(i + 1) % reports.length]!;
            const { payload } = await jwtVerify(report.token, createLocalJWKSet(other.jwks), {
              issuer: 'https://as.example.com',
              typ: 'at+jwt',
              currentDate: new Date(times[index]!),
            });
            expect(payload.sub).toMatch(/^pid-/);
          }
        }
      } finally {
        const driver = await storage.driver();
        for (const table of ['records', 'migrations'])
          await driver.execute(`DROP TABLE IF EXISTS ${prefix}${table}`);
        await storage.close();
      }
    },
    180_000,
  );
});
