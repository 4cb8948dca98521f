import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { approveWithPin, Browser, ISSUER, makeServer } from './helpers.js';

/**
 * The whole flow driven by oauth4webapi, a strict client written by someone else:
 * discovery → registration → authorize with PIN → token → authenticate → refresh → reuse → revoke.
 */
describe('full flow with oauth4webapi', () => {
  it('registers, authorizes with the PIN, uses, refreshes, detects reuse and revokes', async () => {
    const { server, events, clock } = makeServer();
    const fetcher = (url: URL | string, init?: RequestInit) => server.fetch(new Request(url, init));
    const options = { [oauth.customFetch]: fetcher };
    const issuer = new URL(ISSUER);

    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }),
    );
    expect(as.code_challenge_methods_supported).toEqual(['S256']);

    const redirectUri = 'http://127.0.0.1:43117/callback';
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          redirect_uris: [redirectUri],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          client_name: 'oauth4webapi test',
        },
        options,
      ),
    );
    const client: oauth.Client = { client_id: registered.client_id };
    const clientAuth = oauth.None();

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirectUri,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      scope: 'mcp',
      state,
      resource: `${ISSUER}/mcp`,
    }).toString();

    const redirect = await approveWithPin(new Browser(server.fetch), url.toString());
    expect(redirect.status).toBe(302);
    // oauth4webapi checks `iss` (RFC 9207) and `state` here.
    const callback = oauth.validateAuthResponse(
      as,
      client,
      new URL(redirect.headers.get('location')!),
      state,
    );

    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth,
        callback,
        redirectUri,
        verifier,
        options,
      ),
    );
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.refresh_token).toBeTruthy();

    const call = (token: string) =>
      server.authenticate(
        new Request(`${ISSUER}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }),
      );
    const auth = await call(tokens.access_token);
    expect(auth.ok && auth.info).toMatchObject({
      clientId: client.client_id,
      userId: 'owner',
      scopes: ['mcp'],
      resource: `${ISSUER}/mcp`,
    });

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, options),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await call(refreshed.access_token)).ok).toBe(true);

    // Reusing the rotated refresh token after the reuse interval revokes the whole grant family.
    clock.advance(20_001);
    await expect(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, options),
      ),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(events.some((e) => e.type === 'replay_detected' && e.what === 'refresh_token')).toBe(true);
    expect((await call(refreshed.access_token)).ok).toBe(false);
    expect((await call(tokens.access_token)).ok).toBe(false);
    await expect(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshed.refresh_token!, options),
      ),
    ).rejects.toMatchObject({ error: 'invalid_grant' });

    // A new grant, then RFC 7009 revocation of its refresh token revokes its access token too.
    const verifier2 = oauth.generateRandomCodeVerifier();
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier2));
    const again = await approveWithPin(new Browser(server.fetch), url.toString());
    const params2 = oauth.validateAuthResponse(as, client, new URL(again.headers.get('location')!), state);
    const tokens2 = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth,
        params2,
        redirectUri,
        verifier2,
        options,
      ),
    );
    expect((await call(tokens2.access_token)).ok).toBe(true);
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, clientAuth, tokens2.refresh_token!, options),
    );
    expect((await call(tokens2.access_token)).ok).toBe(false);
  });
});
