/**
 * `@portcullis/core/extensions`: optional features of the authorization server, each off unless its
 * factory is passed in `createAuthorizationServer({ extensions: [...] })`. A server that does not import
 * this entry point does not bundle them. See docs/grants.md.
 *
 * @module
 */
import { type PrivateKeyJwtOptions, privateKeyJwtMethod } from '../clients/private-key-jwt.js';
import type { Extension } from '../extension.js';
import { ID_JAG_GRANT_PROFILE } from '../jose/id-jag.js';
import { ASYMMETRIC_ALGORITHMS } from '../jose/jwt.js';
import { type ClientCredentialsOptions, clientCredentialsGrant } from '../token/grants/client-credentials.js';
import { type EnterpriseManagedAuthorizationOptions, jwtBearerGrant } from '../token/grants/jwt-bearer.js';
import { type TokenExchangeOptions, tokenExchangeGrant } from '../token/grants/token-exchange.js';

export type { PrivateKeyJwtOptions } from '../clients/private-key-jwt.js';
export type { Extension } from '../extension.js';
export type { TrustedIdp, VerifiedIdJag } from '../jose/id-jag.js';
export { ID_JAG_GRANT_PROFILE, JWT_BEARER_GRANT_TYPE } from '../jose/id-jag.js';
export type { AsymmetricAlgorithm } from '../jose/jwt.js';
export type { SigningAlgorithm, SigningKeys } from '../jose/signing-keys.js';
export type { ClientCredentialsOptions, MachineClient } from '../token/grants/client-credentials.js';
export type { EnterpriseManagedAuthorizationOptions } from '../token/grants/jwt-bearer.js';
export {
  ACCESS_TOKEN_TYPE,
  TOKEN_EXCHANGE_GRANT_TYPE,
  type TokenExchangeDecision,
  type TokenExchangeOptions,
  type TokenExchangePolicy,
  type TokenExchangeRequest,
  type TokenExchanger,
} from '../token/grants/token-exchange.js';
export type { DpopNonceOptions, DpopOptions, DpopResourceProofOptions } from './dpop.js';
export { dpop, dpopResourceProof } from './dpop.js';
export type { JwtAccessTokensOptions } from './jwt-access-tokens.js';
export { jwtAccessTokens } from './jwt-access-tokens.js';
export type { KeyRotationOptions, ServerSigningKeysOptions } from './signing-keys.js';
export { JWKS_PATH, jwks, signingKeys } from './signing-keys.js';

/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, OIDC Core §9) at the token, revocation and
 * introspection endpoints, for registered clients and Client ID Metadata Documents with `jwks` or
 * `jwks_uri`. Advertised in the metadata with the accepted signing algorithms.
 */
export function privateKeyJwt(options: PrivateKeyJwtOptions = {}): Extension {
  const algorithms = options.algorithms ?? ASYMMETRIC_ALGORITHMS;
  return {
    name: 'private-key-jwt',
    clientAuthentication: [privateKeyJwtMethod(options)],
    // RFC 8414 §2: the algorithms of each endpoint that takes the assertion.
    metadata: () => ({
      token_endpoint_auth_signing_alg_values_supported: algorithms,
      revocation_endpoint_auth_signing_alg_values_supported: algorithms,
      introspection_endpoint_auth_signing_alg_values_supported: algorithms,
    }),
  };
}

/**
 * The client credentials grant (MCP SEP-1046) for the confidential and `private_key_jwt` clients the
 * options allow: `{ clients: [client_id, …] }` and/or `{ allow(client) }`.
 */
export const clientCredentials = (options: ClientCredentialsOptions): Extension => ({
  name: 'client-credentials',
  grantTypes: [clientCredentialsGrant(options)],
});

/** RFC 8693 token exchange between the configured resources, downscoped, with `act` (see the options). */
export const tokenExchange = (options: TokenExchangeOptions): Extension => ({
  name: 'token-exchange',
  grantTypes: [tokenExchangeGrant(options)],
});

/** The MCP Enterprise-Managed Authorization extension: the jwt-bearer grant with ID-JAGs of trusted IdPs. */
export const enterpriseManagedAuthorization = (
  options: EnterpriseManagedAuthorizationOptions,
): Extension => ({
  name: 'enterprise-managed-authorization',
  grantTypes: [jwtBearerGrant(options)],
  // Draft §7.2 and MCP EMA §6: how clients discover the profile.
  metadata: () => ({ authorization_grant_profiles_supported: [ID_JAG_GRANT_PROFILE] }),
});
