/**
 * Optional features of the authorization server, each opt-in by import so a Worker bundles only what
 * it uses: pass them as `createAuthorizationServer({ extensions: [...] })`.
 *
 * @module
 */

export type { SigningAlgorithm, SigningKeys } from '../jose/signing-keys.js';
export type { DpopNonceOptions, DpopOptions, DpopResourceProofOptions } from './dpop.js';
export { dpop, dpopResourceProof } from './dpop.js';
export type { JwtAccessTokensOptions } from './jwt-access-tokens.js';
export { jwtAccessTokens } from './jwt-access-tokens.js';
export type { KeyRotationOptions, ServerSigningKeysOptions } from './signing-keys.js';
export { JWKS_PATH, jwks, signingKeys } from './signing-keys.js';
