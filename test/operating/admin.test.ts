/**
 * `portcullis admin` as an operator runs it: real gateway processes (the CLI) on SQLite and on
 * PostgreSQL, a client signed in through one of them, then the admin command lists and revokes in
 * another process, and the user's tokens are refused at once by both gateway instances.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../packages/cli/test/helpers/spawn.js';
import { pg } from '../support/deps.js';
import { obtainTokens, send } from '../support/gateway-client.js';
import {
  admin,
  mcpInitialize,
  OPS_PIN,
  OPS_SECRET,
  opsPrefix,
  type RunningGateway,
  startCliGateway,
  workDir,
} from './ops-helpers.js';

const POSTGRES_URL = process.env.POSTGRES_URL;

interface Backend {
  readonly name: string;
  /** Storage settings, and a clean-up after the suite. */
  setup(dir: string): { env: Record<string, string>; cleanup(): Promise<void> };
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    setup: (dir) => ({
      env: { STORAGE_URL: join(dir, 'shared.db') },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    }),
  },
];
if (POSTGRES_URL) {
  backends.push({
    name: 'PostgreSQL',
    setup: (dir) => {
      const prefix = opsPrefix('admin');
      return {
        env: { STORAGE_URL: POSTGRES_URL, STORAGE_PREFIX: prefix },
        async cleanup() {
          const client = new pg.Client({ connectionString: POSTGRES_URL });
          await client.connect();
          await client.query(`DROP TABLE IF EXISTS ${prefix}records, ${prefix}migrations`);
          await client.end();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  });
}

// A fresh machine runs without PostgreSQL; CI (PORTCULLIS_REQUIRE_SERVICES=1) must have it.
describe('the suite has its services', () => {
  it.runIf(process.env.PORTCULLIS_REQUIRE_SERVICES === '1')(
    'runs on PostgreSQL too (POSTGRES_URL is set)',
    () => {
      expect(POSTGRES_URL, 'export POSTGRES_URL to run the PostgreSQL half').toBeTruthy();
    },
  );
});

for (const backend of backends) {
  describe(`portcullis admin against two running gateways on ${backend.name}`, () => {
    const dir = workDir();
    const storage = backend.setup(dir);
    const env = {
      ...storage.env,
      PORTCULLIS_SECRET: OPS_SECRET,
      PORTCULLIS_PIN: OPS_PIN,
      LOG_EVENTS: 'false',
    };
    const gateways: (RunningGateway & { issuer: string })[] = [];
    afterAll(async () => {
      for (const g of gateways) await g.cli.stop();
      await storage.cleanup();
    });

    it('lists clients and grants, revokes a user, and both instances refuse the tokens at once', async () => {
      const portA = await freePort();
      const a = await startCliGateway(env, dir, undefined, portA);
      gateways.push(a);
      // The second instance serves the same issuer (behind one public URL) on its own port.
      const b = await startCliGateway(env, dir, a.issuer);
      gateways.push(b);

      const first = await obtainTokens(a.issuer, OPS_PIN);
      const second = await obtainTokens(a.issuer, OPS_PIN);
      for (const g of [a, b]) {
        for (const tokens of [first, second])
          expect((await mcpInitialize(g.url, tokens.accessToken)).status).toBe(200);
      }

      const clients = await admin(['list-clients', '--json'], env, dir);
      expect(clients.code, clients.stderr).toBe(0);
      const listed = JSON.parse(clients.stdout) as { clientId: string; lastUsedAt?: number }[];
      expect(listed.map((c) => c.clientId).sort()).toEqual([first.clientId, second.clientId].sort());

      const table = await admin(['list-grants', '--user', 'owner'], env, dir);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^GRANT ID\s+USER\s+CLIENT ID/m);
      expect(table.stdout).toContain(first.clientId);

      const grants = await admin(['list-grants', '--client', first.clientId, '--json'], env, dir);
      const ofFirst = JSON.parse(grants.stdout) as { userId: string; clientId: string }[];
      expect(ofFirst).toHaveLength(1);
      expect(ofFirst[0]).toMatchObject({ userId: 'owner', clientId: first.clientId });

      const revoked = await admin(['revoke-user', 'owner', '--json'], env, dir);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(JSON.parse(revoked.stdout)).toEqual({ revoked: 2 });

      // At once, on both instances: the grants are gone from the shared storage.
      for (const g of [a, b]) {
        for (const tokens of [first, second]) {
          const refused = await mcpInitialize(g.url, tokens.accessToken);
          expect(refused.status).toBe(401);
          expect(String(refused.headers['www-authenticate'])).toMatch(/error="invalid_token"/);
        }
      }
      // The refresh tokens died with their grants.
      const refresh = await send(`${b.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: first.refreshToken,
          client_id: first.clientId,
        }).toString(),
      });
      expect(refresh.status).toBe(400);
      expect(JSON.parse(refresh.body).error).toBe('invalid_grant');
      const after = await admin(['list-grants', '--json'], env, dir);
      expect(JSON.parse(after.stdout)).toEqual([]);

      // Nothing the admin commands printed holds a secret, a token or the PIN.
      for (const output of [clients, table, grants, revoked, after]) {
        const text = output.stdout + output.stderr;
        for (const secret of [
          OPS_SECRET,
          OPS_PIN,
          first.accessToken,
          first.refreshToken,
          second.accessToken,
        ]) {
          expect(text).not.toContain(secret);
        }
      }
    }, 180_000);

    it('deletes a client, purges, shows the configuration masked and refuses unknown commands', async () => {
      const [a] = gateways;
      if (!a) throw new Error('the first test starts the gateways');
      const tokens = await obtainTokens(a.issuer, OPS_PIN);
      const deleted = await admin(['delete-client', tokens.clientId], env, dir);
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(deleted.stdout).toMatch(/Deleted the client and revoked 1 grant/);
      expect((await mcpInitialize(a.url, tokens.accessToken)).status).toBe(401);
      expect((await admin(['purge', '--json'], env, dir)).code).toBe(0);
      const config = await admin(['config', '--json'], env, dir);
      expect(config.code, config.stderr).toBe(0);
      const view = JSON.parse(config.stdout) as {
        settings: Record<string, unknown>;
        effective: { storageCanList: boolean };
      };
      expect(view.settings.secret).toBe('********');
      expect(view.settings.pin).toBe('********');
      expect(view.effective.storageCanList).toBe(true);
      expect(config.stdout).not.toContain(OPS_SECRET);
      expect(config.stdout).not.toContain(OPS_PIN);
      const unknown = await admin(['frobnicate'], env, dir);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/unknown admin command "frobnicate"/);
    }, 120_000);

    it('rotates the signing keys ahead of schedule: the gateway publishes the successor before it signs', async () => {
      const signing = { ...env, IDENTITY_ASSERTION: 'jwks', UPSTREAM_MCP_URL: 'http://127.0.0.1:9/mcp' };
      // On a store without keys the first call makes the first key; the next publishes its successor.
      const created = await admin(['rotate-signing-keys', '--json'], signing, dir);
      expect(created.code, created.stderr).toBe(0);
      const initial = JSON.parse(created.stdout) as { signing: string; published: string[] };
      expect(initial.published).toEqual([initial.signing]);
      const first = await admin(['rotate-signing-keys', '--json'], signing, dir);
      const rotated = JSON.parse(first.stdout) as { signing: string; published: string[] };
      expect(rotated.published).toHaveLength(2);
      expect(rotated.signing).toBe(initial.signing);
      // A second rotation while the successor waits to sign changes nothing.
      const second = await admin(['rotate-signing-keys', '--json'], signing, dir);
      expect(JSON.parse(second.stdout)).toEqual(rotated);
      const gateway = await startCliGateway(signing, dir);
      gateways.push(gateway);
      const jwks = (await (await fetch(`${gateway.url}/.well-known/jwks.json`)).json()) as {
        keys: { kid: string }[];
      };
      expect(jwks.keys.map((key) => key.kid).sort()).toEqual([...rotated.published].sort());
      expect(first.stdout + second.stdout).not.toContain(OPS_SECRET);
    }, 120_000);
  });
}
