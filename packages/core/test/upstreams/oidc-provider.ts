import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider from 'oidc-provider';
import { type LocalServer, startServer } from '../resource-server/helpers.js';

/** Accounts of the test OpenID provider. */
const ACCOUNTS: Record<string, { email: string; email_verified: boolean; name: string }> = {
  alice: { email: 'alice@corp.test', email_verified: true, name: 'Alice Example' },
  eve: { email: 'eve@elsewhere.test', email_verified: true, name: 'Eve' },
  unverified: { email: 'mallory@corp.test', email_verified: false, name: 'Mallory' },
};

/**
 * A real OpenID provider (oidc-provider) on loopback; `login` picks who signs in next. It issues
 * refresh tokens for `offline_access` with `prompt=consent` (rotated on every use, reuse refused) and
 * serves RFC 7009 revocation.
 */
export interface TestOp extends LocalServer {
  readonly issuer: string;
  login: string;
  /** The `grant_type` of every token request the provider answered with tokens, in order. */
  readonly grants: string[];
}

/** Starts oidc-provider on 127.0.0.1 with one confidential client redirecting to `redirectUri`. */
export async function startOp(redirectUri: string): Promise<TestOp> {
  let provider: Provider | undefined;
  const state = { login: 'alice' };
  const server = await startServer(async (req: IncomingMessage, res: ServerResponse) => {
    const p = provider!;
    if (req.url?.startsWith('/interaction/')) {
      // The "user" signs in and consents at once.
      const details = await p.interactionDetails(req, res);
      const accountId = state.login;
      if (details.prompt.name === 'login') {
        await p.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = new p.Grant({ accountId, clientId: String(details.params.client_id) });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await p.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    p.callback()(req, res);
  });
  provider = new Provider(server.url, {
    clients: [
      {
        client_id: 'portcullis',
        client_secret: 'op-client-secret',
        redirect_uris: [redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token'],
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx, id) => {
      const account = ACCOUNTS[id];
      if (!account) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...account }) };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
    rotateRefreshToken: () => true,
    pkce: { required: () => true },
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
    ttl: {
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AccessToken: 600,
      IdToken: 600,
      AuthorizationCode: 60,
      RefreshToken: 3600,
    },
  });
  const grants: string[] = [];
  provider.on('grant.success', (ctx) => void grants.push(String(ctx.oidc.params.grant_type)));
  return {
    ...server,
    issuer: server.url,
    grants,
    get login() {
      return state.login;
    },
    set login(value: string) {
      state.login = value;
    },
  };
}
