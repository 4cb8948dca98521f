import * as oauth from 'oauth4webapi';
import type { Identity, Props } from '../types.js';
import type { IdentityUpstream, UpstreamContext, UpstreamOutcome } from '../upstream.js';
import {
  beginAuthorization,
  handleCallback,
  isCallbackResult,
  type OAuthClientSettings,
  refreshAtIdp,
  requestOptions,
  revokeAtIdp,
  upstreamTokenOf,
} from './oauth-flow.js';
import { refreshableUpstreamTokens } from './refreshable-tokens.js';
import { type EmailPolicy, emailRefusal, failure, requireSecureUrl, requireSignInChoice } from './shared.js';

/** Checks the claims a user must have; `null` when they all match (or none is required). */
function claimsRefusal(
  profile: Readonly<Record<string, unknown>>,
  required: OidcUpstreamOptions['allowedClaims'],
): string | null {
  for (const [name, wanted] of Object.entries(required ?? {})) {
    const values = typeof wanted === 'string' ? [wanted] : wanted;
    const claim = profile[name];
    const has = Array.isArray(claim) ? claim : [claim];
    if (!has.some((v) => typeof v === 'string' && values.includes(v))) {
      return `the ${name} claim does not allow this account`;
    }
  }
  return null;
}

/** Options of {@link oidcUpstream}. */
export interface OidcUpstreamOptions extends Omit<OAuthClientSettings, 'scopes'>, EmailPolicy {
  /** The OpenID Provider's issuer identifier (discovery at `/.well-known/openid-configuration`). */
  readonly issuer: string;
  /** Scopes to request; default `openid email profile` (`openid` is always included). */
  readonly scopes?: readonly string[];
  /**
   * Claims a user must have to sign in, every one of them: a string claim equal to the value (or one of
   * the values), or an array claim containing one, e.g. `{ hd: 'example.com' }` or `{ groups: ['mcp'] }`.
   */
  readonly allowedClaims?: Readonly<Record<string, string | readonly string[]>>;
  /** Which claim becomes the user id: `sub` (default, stable) or the verified `email`. */
  readonly userId?: 'sub' | 'email';
  /**
   * Accept emails the provider does not mark `email_verified: true` (default `false`: such an email is
   * neither used for allow-lists nor passed on).
   */
  readonly allowUnverifiedEmail?: boolean;
  /**
   * Keep the provider's access token with the grant (`identity.upstreamToken`); default `true`. When the
   * provider also issues a refresh token (ask for one: `offline_access` in `scopes`, or for Google
   * `authorizationParams: { access_type: 'offline', prompt: 'consent' }`), it is kept sealed and used to
   * refresh the access token when it expires and on the client's own refresh; revoking the grant revokes
   * it at the provider when its metadata has a `revocation_endpoint` (RFC 7009).
   */
  readonly captureUpstreamToken?: boolean;
  /** Adds application data to the grant from the verified ID token claims. */
  readonly props?: (claims: Readonly<oauth.IDToken>) => Props;
  /** How long discovery metadata is reused, in ms; default 1 hour. */
  readonly discoveryTtlMs?: number;
}

/**
 * Signs users in with an OpenID Connect provider (Google, Okta, Keycloak, Entra ID…): discovery, PKCE,
 * `state` and `nonce`, RFC 9207 `iss` check, signed ID token validation, and verified-email allow-lists.
 *
 * @example
 * ```ts
 * const upstream = oidcUpstream({
 *   issuer: 'https://login.example.com',
 *   clientId: env.OIDC_CLIENT_ID,
 *   clientSecret: env.OIDC_CLIENT_SECRET,
 *   allowedDomains: ['example.com'],
 * });
 * ```
 */
export function oidcUpstream(options: OidcUpstreamOptions): IdentityUpstream {
  const issuer = new URL(options.issuer);
  requireSecureUrl(issuer, 'oidcUpstream issuer');
  requireSignInChoice('oidcUpstream', options, {
    allowedEmails: options.allowedEmails,
    allowedDomains: options.allowedDomains,
    allowedClaims: options.allowedClaims,
  });
  const scopes = [...new Set(['openid', ...(options.scopes ?? ['email', 'profile'])])];
  const settings: OAuthClientSettings = { ...options, scopes };
  const callbackPath = options.callbackPath ?? '/callback';
  const ttl = options.discoveryTtlMs ?? 3_600_000;
  let discovered: { as: Promise<oauth.AuthorizationServer>; at: number } | undefined;

  function discover(now: number): Promise<oauth.AuthorizationServer> {
    if (!discovered || now - discovered.at > ttl) {
      const as = oauth
        .discoveryRequest(issuer, { algorithm: 'oidc', ...requestOptions(settings, issuer) })
        // OIDC Discovery §4.3: the metadata's issuer must equal the configured issuer.
        .then((response) => oauth.processDiscoveryResponse(issuer, response));
      discovered = { as, at: now };
      as.catch(() => {
        discovered = undefined;
      });
    }
    return discovered.as;
  }

  const unavailable = (ctx: UpstreamContext) =>
    failure(
      ctx,
      'identity provider discovery failed',
      'The identity provider is unavailable; try again later.',
      502,
    );

  const sessions: Pick<IdentityUpstream, 'upstreamTokens'> =
    options.captureUpstreamToken === false
      ? {}
      : {
          upstreamTokens: refreshableUpstreamTokens({
            async refresh(token, now) {
              const as = await discover(now).catch(() => null);
              if (!as) return { ok: false, ended: false, reason: 'identity provider discovery failed' };
              return refreshAtIdp(as, settings, token, now);
            },
            async revoke(token) {
              const as = await discover(Date.now()).catch(() => null);
              if (as) await revokeAtIdp(as, settings, token);
            },
          }),
        };

  return {
    name: 'oidc',
    routes: [{ method: 'GET', path: callbackPath }],
    ...sessions,

    async begin(pending, _request, ctx) {
      const as = await discover(ctx.now()).catch(() => null);
      if (!as) return unavailable(ctx);
      return beginAuthorization(as, settings, pending, ctx, true);
    },

    async handle(request, ctx): Promise<UpstreamOutcome> {
      const as = await discover(ctx.now()).catch(() => null);
      if (!as) return unavailable(ctx);
      const result = await handleCallback(request, ctx, as, settings, async (response, saved) => {
        const client: oauth.Client = { client_id: options.clientId };
        const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
          // OIDC Core §3.1.3.7: the ID token's nonce must be the one sent in this flow.
          expectedNonce: saved.nonce ?? oauth.expectNoNonce,
          requireIdToken: true,
        });
        // The ID token's signature is checked too, also where TLS alone would vouch for it.
        await oauth.validateApplicationLevelSignature(as, response, requestOptions(settings, issuer));
        return tokens;
      });
      if (!isCallbackResult(result)) return result;
      const claims = oauth.getValidatedIdTokenClaims(result.tokens);
      if (!claims) return failure(ctx, 'no id_token', 'The identity provider returned no ID token.', 502);
      let profile: Readonly<Record<string, unknown>> = claims;
      if (typeof claims.email !== 'string' && as.userinfo_endpoint) {
        // OIDC Core §5.4: providers may release scope claims at UserInfo only; its `sub` must match.
        try {
          const response = await oauth.userInfoRequest(
            as,
            result.client,
            result.tokens.access_token,
            requestOptions(settings, issuer),
          );
          profile = {
            ...(await oauth.processUserInfoResponse(as, result.client, claims.sub, response)),
            sub: claims.sub,
          };
        } catch {
          return failure(
            ctx,
            'userinfo request failed',
            'The identity provider did not return the user profile.',
            502,
          );
        }
      }
      const email = typeof profile.email === 'string' ? profile.email : undefined;
      const verified = profile.email_verified === true || options.allowUnverifiedEmail === true;
      const refusal = emailRefusal(email, verified, options) ?? claimsRefusal(profile, options.allowedClaims);
      if (refusal) {
        ctx.loginFailed(`oidc: ${refusal}`);
        return { type: 'denied', pendingId: result.pendingId, reason: `Sign-in refused: ${refusal}` };
      }
      const usableEmail = verified ? email : undefined;
      const userId = options.userId === 'email' ? usableEmail : claims.sub;
      if (!userId) {
        ctx.loginFailed('oidc: no verified email for the user id');
        return {
          type: 'denied',
          pendingId: result.pendingId,
          reason: 'Sign-in refused: no verified email address',
        };
      }
      const identity: Identity = {
        userId,
        ...(usableEmail ? { email: usableEmail } : {}),
        ...(typeof profile.name === 'string' ? { name: profile.name } : {}),
        ...(options.props ? { props: options.props(claims) } : {}),
        ...(options.captureUpstreamToken === false
          ? {}
          : { upstreamToken: upstreamTokenOf(result.tokens, ctx.now()) }),
      };
      return { type: 'identity', pendingId: result.pendingId, identity };
    },
  };
}

/** Options of {@link googleUpstream}: {@link OidcUpstreamOptions} without the issuer. */
export type GoogleUpstreamOptions = Omit<OidcUpstreamOptions, 'issuer'>;

/**
 * Google sign-in (OpenID Connect at `https://accounts.google.com`). Say who may sign in with
 * `allowedDomains` (Workspace domains), `allowedEmails`, `allowedClaims` (e.g. `{ hd: 'example.com' }`)
 * or `allowAnyone: true`; the redirect URI to register is `<issuer>/callback`.
 *
 * @example
 * ```ts
 * const upstream = googleUpstream({
 *   clientId: env.GOOGLE_CLIENT_ID,
 *   clientSecret: env.GOOGLE_CLIENT_SECRET,
 *   allowedEmails: ['me@gmail.com'],
 * });
 * ```
 */
export function googleUpstream(options: GoogleUpstreamOptions): IdentityUpstream {
  requireSignInChoice('googleUpstream', options, {
    allowedEmails: options.allowedEmails,
    allowedDomains: options.allowedDomains,
    allowedClaims: options.allowedClaims,
  });
  const upstream = oidcUpstream({ ...options, issuer: 'https://accounts.google.com' });
  return { ...upstream, name: 'google' };
}
