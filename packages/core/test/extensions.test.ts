import type { Extension } from '@portcullis/core';
import { describe, expect, it } from 'vitest';
import { ISSUER, makeServer, registerClient, tokenRequest } from './helpers.js';

/** An extension grant that answers with a fixed body, to see the seam dispatch to it. */
const echoGrant = (enabled = true): Extension => ({
  name: 'echo',
  grantTypes: [
    {
      name: 'urn:example:echo',
      enabled: () => enabled,
      handle: async ({ client, form }) => ({
        access_token: `echo-${form.get('value') ?? ''}`,
        token_type: 'Bearer',
        expires_in: 1,
        scope: client.clientId.length > 0 ? 'mcp' : '',
      }),
    },
  ],
  metadata: () => ({ echo_supported: true }),
});

describe('extensions', () => {
  it('add grant types to the token endpoint and members to the metadata', async () => {
    const { server } = makeServer({ extensions: [echoGrant()] });
    const metadata = await (
      await server.fetch(new Request(`${ISSUER}/.well-known/oauth-authorization-server`))
    ).json();
    expect(metadata.grant_types_supported).toEqual([
      'authorization_code',
      'refresh_token',
      'urn:example:echo',
    ]);
    expect(metadata.echo_supported).toBe(true);
    const { body } = await registerClient(server.fetch, {
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'urn:example:echo'],
    });
    const response = await tokenRequest(server.fetch, {
      grant_type: 'urn:example:echo',
      value: 'hi',
      client_id: body.client_id!,
    });
    expect(await response.json()).toMatchObject({ access_token: 'echo-hi' });
  });

  it('leave a disabled grant type out of the metadata and the token endpoint', async () => {
    const { server } = makeServer({ extensions: [echoGrant(false)] });
    const metadata = await (
      await server.fetch(new Request(`${ISSUER}/.well-known/oauth-authorization-server`))
    ).json();
    expect(metadata.grant_types_supported).not.toContain('urn:example:echo');
    const response = await tokenRequest(server.fetch, { grant_type: 'urn:example:echo', client_id: 'x' });
    expect((await response.json()).error).toBe('unsupported_grant_type');
  });

  it('refuse a grant type added twice', () => {
    expect(() => makeServer({ extensions: [echoGrant(), echoGrant()] })).toThrow(/added twice/);
  });
});
