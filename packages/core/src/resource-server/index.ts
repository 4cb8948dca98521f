/**
 * Resource-server-only mode (ADR 011): verify tokens issued by an external authorization server.
 * @module
 */

export type { BearerChallenge } from '../resource/bearer.js';
export { formatBearerChallenge, readBearerToken } from '../resource/bearer.js';
export { bearerErrorResponse } from '../resource/challenge.js';
export { protectedResourceMetadataUrl } from '../rules/resource.js';
export type { CloudflareAccessVerifierOptions } from './cloudflare-access.js';
export { cloudflareAccessVerifier } from './cloudflare-access.js';
export type { IntrospectionVerifierOptions } from './introspection.js';
export { introspectionVerifier } from './introspection.js';
export type { JwtVerifierOptions } from './jwt.js';
export { jwtVerifier } from './jwt.js';
export type { ResourceServer, ResourceServerOptions } from './server.js';
export { createResourceServer } from './server.js';
export type {
  ClaimNames,
  TokenVerifier,
  VerificationResult,
  VerifiedAccessToken,
  VerifyContext,
} from './verifier.js';
