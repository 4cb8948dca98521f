import * as oauth from 'oauth4webapi';
import type { Identity, Props } from '../types.js';
import type { IdentityUpstream, UpstreamOutcome } from '../upstream.js';
import {
  beginAuthorization,
  handleCallback,
  isCallbackResult,
  type OAuthClientSettings,
  refreshAtIdp,
  revokeAtIdp,
  upstreamTokenOf,
} from './oauth-flow.js';
import { refreshableUpstreamTokens } from './refreshable-tokens.js';
import { type EmailPolicy, emailRefusal, failure, requireSecureUrl, requireSignInChoice } from './shared.js';

/** The user as a plain OAuth 2 provider's API describes them. */
export interface OAuth2User {
  readonly userId: string;
  readonly email?: string;
  /** Whether the provider verified `email`; unverified emails are neither trusted nor passed on. */
  readonly emailVerified?: boolean;
  readonly name?: string;
  readonly props?: Props;
}

/** Options of {@link oauth2Upstream}. */
export interface OAuth2UpstreamOptions extends OAuthClientSettings, EmailPolicy {
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  /**
   * The provider's issuer identifier, when it sends `iss` in authorization responses (RFC 9207); by
   * default the authorization endpoint's origin.
   */
  readonly issuer?: string;
  /** Looks the user up with the access token (e.g. `GET https://api.github.com/user`). `null` refuses. */
  readonly userInfo: (accessToken: string, fetch: typeof globalThis.fetch) => Promise<OAuth2User | null>;
  /** The provider's RFC 7009 revocation endpoint: revoking a grant then revokes its provider token too. */
  readonly revocationEndpoint?: string;
  /**
   * Keep the provider's access token with the grant (`identity.upstreamToken`); default `true`. A refresh
   * token the provider issues is kept sealed and used to refresh the access token when it expires and on
   * the client's own refresh.
   */
  readonly captureUpstreamToken?: boolean;
  /** Short name for events; default `oauth2`. */
  readonly name?: string;
}

/**
 * Signs users in with a plain OAuth 2 provider (GitHub, Slack, Discord…): authorization code with PKCE
 * and `state`, then your `userInfo` function maps the access token to a user.
 *
 * @example
 * ```ts
 * const upstream = oauth2Upstream({
 *   authorizationEndpoint: 'https://provider.example/oauth/authorize',
 *   tokenEndpoint: 'https://provider.example/oauth/token',
 *   clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET, scopes: ['profile'],
 *   userInfo: async (token, fetch) => {
 *     const me = await (await fetch('https://provider.example/api/me', { headers: { authorization: `Bearer ${token}` } })).json();
 *     return { userId: String(me.id), email: me.email, emailVerified: me.email_verified };
 *   },
 * });
 * ```
 */
export function oauth2Upstream(options: OAuth2UpstreamOptions): IdentityUpstream {
  const authorization = new URL(options.authorizationEndpoint);
  const tokenEndpoint = new URL(options.tokenEndpoint);
  requireSecureUrl(authorization, 'oauth2Upstream authorizationEndpoint');
  requireSecureUrl(tokenEndpoint, 'oauth2Upstream tokenEndpoint');
  const revocation = options.revocationEndpoint ? new URL(options.revocationEndpoint) : undefined;
  if (revocation) requireSecureUrl(revocation, 'oauth2Upstream revocationEndpoint');
  const as: oauth.AuthorizationServer = {
    issuer: options.issuer ?? authorization.origin,
    authorization_endpoint: authorization.toString(),
    token_endpoint: tokenEndpoint.toString(),
    ...(revocation ? { revocation_endpoint: revocation.toString() } : {}),
  };
  const doFetch = options.fetch ?? fetch;
  const callbackPath = options.callbackPath ?? '/callback';

  const sessions: Pick<IdentityUpstream, 'upstreamTokens'> =
    options.captureUpstreamToken === false
      ? {}
      : {
          upstreamTokens: refreshableUpstreamTokens({
            refresh: (token, now) => refreshAtIdp(as, options, token, now),
            revoke: (token) => revokeAtIdp(as, options, token),
          }),
        };

  return {
    name: options.name ?? 'oauth2',
    routes: [{ method: 'GET', path: callbackPath }],
    ...sessions,
    begin: (pending, _request, ctx) => beginAuthorization(as, options, pending, ctx, false),
    async handle(request, ctx): Promise<UpstreamOutcome> {
      const result = await handleCallback(request, ctx, as, options, (response) =>
        oauth.processAuthorizationCodeResponse(as, { client_id: options.clientId }, response),
      );
      if (!isCallbackResult(result)) return result;
      let user: OAuth2User | null;
      try {
        user = await options.userInfo(result.tokens.access_token, doFetch);
      } catch {
        return failure(
          ctx,
          'user lookup failed',
          'The identity provider did not return the user profile.',
          502,
        );
      }
      if (!user?.userId) {
        ctx.loginFailed('user lookup refused the user');
        return { type: 'denied', pendingId: result.pendingId, reason: 'Sign-in refused for this account' };
      }
      const verified = user.emailVerified === true;
      const refusal = emailRefusal(user.email, verified, options);
      if (refusal) {
        ctx.loginFailed(`oauth2: ${refusal}`);
        return { type: 'denied', pendingId: result.pendingId, reason: `Sign-in refused: ${refusal}` };
      }
      const identity: Identity = {
        userId: user.userId,
        ...(verified && user.email ? { email: user.email } : {}),
        ...(user.name ? { name: user.name } : {}),
        ...(user.props ? { props: user.props } : {}),
        ...(options.captureUpstreamToken === false
          ? {}
          : { upstreamToken: upstreamTokenOf(result.tokens, ctx.now()) }),
      };
      return { type: 'identity', pendingId: result.pendingId, identity };
    },
  };
}

/** Options of {@link githubUpstream}. */
export interface GitHubUpstreamOptions
  extends Omit<
    OAuth2UpstreamOptions,
    'authorizationEndpoint' | 'tokenEndpoint' | 'userInfo' | 'scopes' | 'issuer'
  > {
  /** Scopes; default `read:user user:email`. */
  readonly scopes?: readonly string[];
  /** GitHub logins allowed to sign in (case-insensitive). */
  readonly allowedUsers?: readonly string[];
  /**
   * GitHub organizations whose active members may sign in (case-insensitive); asks for `read:org` too.
   * With `allowedUsers`, either admits.
   */
  readonly allowedOrgs?: readonly string[];
  /** GitHub API base URL (GitHub Enterprise Server: `https://ghe.example.com/api/v3`). */
  readonly apiUrl?: string;
  /** GitHub web base URL (GitHub Enterprise Server: `https://ghe.example.com`). */
  readonly webUrl?: string;
}

/**
 * GitHub sign-in (OAuth App or GitHub App user tokens). The user id is the numeric GitHub id, the email
 * the primary verified one. Register `<issuer>/callback` as the callback URL.
 *
 * @example
 * ```ts
 * const upstream = githubUpstream({ clientId: env.GITHUB_CLIENT_ID, clientSecret: env.GITHUB_CLIENT_SECRET, allowedUsers: ['octocat'] });
 * ```
 */
export function githubUpstream(options: GitHubUpstreamOptions): IdentityUpstream {
  const web = (options.webUrl ?? 'https://github.com').replace(/\/+$/, '');
  const api = (options.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  requireSignInChoice('githubUpstream', options, {
    allowedUsers: options.allowedUsers,
    allowedOrgs: options.allowedOrgs,
    allowedEmails: options.allowedEmails,
    allowedDomains: options.allowedDomains,
  });
  const users = options.allowedUsers?.map((u) => u.toLowerCase()) ?? [];
  const orgs = options.allowedOrgs?.map((o) => o.toLowerCase()) ?? [];
  const restrictsAccount = users.length > 0 || orgs.length > 0;
  return oauth2Upstream({
    ...options,
    name: 'github',
    scopes: options.scopes ?? ['read:user', 'user:email', ...(orgs.length > 0 ? ['read:org'] : [])],
    authorizationEndpoint: `${web}/login/oauth/authorize`,
    tokenEndpoint: `${web}/login/oauth/access_token`,
    async userInfo(token, fetch) {
      const headers = {
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.github+json',
        'user-agent': 'portcullis',
      };
      const userResponse = await fetch(`${api}/user`, { headers });
      if (!userResponse.ok) throw new Error(`GitHub /user answered ${userResponse.status}`);
      const user = (await userResponse.json()) as { id?: number; login?: string; name?: string | null };
      if (typeof user.id !== 'number' || typeof user.login !== 'string') return null;
      if (restrictsAccount && !users.includes(user.login.toLowerCase())) {
        let member = false;
        for (const org of orgs) {
          // GitHub REST: the user's own membership of an org (needs read:org), `active` once accepted.
          const response = await fetch(`${api}/user/memberships/orgs/${encodeURIComponent(org)}`, {
            headers,
          });
          const membership = response.ok ? ((await response.json()) as { state?: string }) : {};
          if (membership.state === 'active') member = true;
          if (member) break;
        }
        if (!member) return null;
      }
      let email: string | undefined;
      const emailsResponse = await fetch(`${api}/user/emails`, { headers });
      if (emailsResponse.ok) {
        const emails = (await emailsResponse.json()) as {
          email?: string;
          primary?: boolean;
          verified?: boolean;
        }[];
        email = emails.find((e) => e.primary && e.verified)?.email;
      }
      return {
        userId: String(user.id),
        ...(email ? { email, emailVerified: true } : {}),
        ...(user.name ? { name: user.name } : {}),
        props: { githubLogin: user.login },
      };
    },
  });
}
