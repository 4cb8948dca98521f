/**
 * Single use across instances: two authorization servers over one real SQLite file (as two gateway
 * instances sharing their database) accept a client assertion's or an ID-JAG's `jti` once, also when
 * both receive it at the same moment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthorizationServer } from '@portcullis/core';
import {
  clientCredentials,
  enterpriseManagedAuthorization,
  JWT_BEARER_GRANT_TYPE,
  privateKeyJwt,
} from '@portcullis/core/extensions';
import { pinUpstream } from '@portcullis/core/upstreams';
import { sqliteStorage } from '@portcullis/storage-sql';
import { SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, describe, expect, it } from 'vitest';
import { PIN, SECRET } from '../helpers.js';
import { discover, ISSUER, json, keyPair, register } from './support.js';

const IDP = 'https://idp.example.com';
const dir = mkdtempSync(join(tmpdir(), 'grants-replay-'));
const storages: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(storages.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** Two servers, each with its own storage connection to one SQLite file. */
async function twoInstances(file: string, idpKey: Awaited<ReturnType<typeof keyPair>>) {
  const make = () => {
    const storage = sqliteStorage(join(dir, file), { tablePrefix: 'grants_' });
    storages.push(storage);
    return createAuthorizationServer({
      issuer: ISSUER,
      storage,
      upstream: pinUpstream({ pin: PIN }),
      secret: SECRET,
      extensions: [
        privateKeyJwt(),
        clientCredentials({ allow: () => true }),
        enterpriseManagedAuthorization({
          trustedIssuers: [{ issuer: IDP, jwksUri: `${IDP}/jwks` }],
          fetch: async () => json({ keys: [idpKey.publicJwk] }),
        }),
      ],
    });
  };
  const a = make();
  const b = make();
  return { a, b, as: await discover(a) };
}

const post = (server: { fetch(r: Request): Promise<Response> }, body: string) =>
  server.fetch(
    new Request(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    }),
  );

describe('jti single use across two instances over one SQLite file', () => {
  it('accepts a private_key_jwt assertion once: a replay at the other instance is invalid_client', async () => {
    const idpKey = await keyPair('ES256');
    const { a, b, as } = await twoInstances('assertion.db', idpKey);
    const key = await keyPair('ES256');
    const { client_id } = await register(a.fetch, {
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      redirect_uris: undefined,
      jwks: { keys: [key.publicJwk] },
    });
    /** The form oauth4webapi sends, captured and not sent. */
    const capture = async () => {
      let body = '';
      await oauth.clientCredentialsGrantRequest(
        as,
        { client_id },
        oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
        {},
        {
          [oauth.customFetch]: async (_url: URL | string, init?: RequestInit) => {
            body = String(init?.body);
            return json({});
          },
        },
      );
      return body;
    };
    const body = await capture();
    expect((await post(a, body)).status).toBe(200);
    const replay = await post(b, body);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringContaining('already used'),
    });

    // The same fresh assertion at both instances at once: exactly one succeeds.
    for (let round = 0; round < 5; round++) {
      const raced = await capture();
      const statuses = (await Promise.all([post(a, raced), post(b, raced)])).map((r) => r.status).sort();
      expect(statuses).toEqual([200, 401]);
    }
  });

  it('accepts an ID-JAG once: a replay at the other instance is invalid_grant', async () => {
    const idpKey = await keyPair('ES256', 'idp-1');
    const { a, b } = await twoInstances('id-jag.db', idpKey);
    const { client_id } = await register(a.fetch, {
      token_endpoint_auth_method: 'none',
      grant_types: [JWT_BEARER_GRANT_TYPE],
      redirect_uris: undefined,
    });
    const idJag = await new SignJWT({ client_id, resource: `${ISSUER}/mcp`, scope: 'mcp' })
      .setProtectedHeader({ alg: 'ES256', kid: idpKey.kid, typ: 'oauth-id-jag+jwt' })
      .setIssuer(IDP)
      .setSubject('U1')
      .setAudience(ISSUER)
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(idpKey.privateKey);
    const body = new URLSearchParams({
      grant_type: JWT_BEARER_GRANT_TYPE,
      assertion: idJag,
      client_id,
    }).toString();
    expect((await post(a, body)).status).toBe(200);
    const replay = await post(b, body);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.stringContaining('already used'),
    });
  });
});
