/**
 * Identity upstreams: who the user is during `/authorize`.
 * @module
 */

export type { CloudflareAccessVerifierOptions } from '../resource-server/cloudflare-access.js';
/** Resource-server-only mode behind Cloudflare Access (ADR 011): verifies `Cf-Access-Jwt-Assertion`. */
export { cloudflareAccessVerifier } from '../resource-server/cloudflare-access.js';
export type { CloudflareAccessUpstreamOptions } from './cloudflare-access.js';
export { cloudflareAccessUpstream } from './cloudflare-access.js';
export type { CloudflareAccessSettings } from './cloudflare-access-jwt.js';
export { cloudflareAccessIssuer } from './cloudflare-access-jwt.js';
export type { OAuthClientSettings } from './oauth-flow.js';
export type { GitHubUpstreamOptions, OAuth2UpstreamOptions, OAuth2User } from './oauth2.js';
export { githubUpstream, oauth2Upstream } from './oauth2.js';
export type { GoogleUpstreamOptions, OidcUpstreamOptions } from './oidc.js';
export { googleUpstream, oidcUpstream } from './oidc.js';
export type { PinUpstreamOptions } from './pin.js';
export { pinUpstream } from './pin.js';
/** Refreshes and revokes the IdP tokens a custom upstream captures at login. */
export { refreshableUpstreamTokens } from './refreshable-tokens.js';
export type { EmailPolicy } from './shared.js';
export type { TrustedHeaderUpstreamOptions } from './trusted-header.js';
export { trustedHeaderUpstream } from './trusted-header.js';
