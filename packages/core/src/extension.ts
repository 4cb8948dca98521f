import type { ClientAuthMethod } from './clients/authenticate.js';
import type { Core } from './context.js';
import type { Route } from './http/router.js';
import type { ResourceProofCheck } from './resource/proof.js';
import type { TokenProofCheck } from './token/binding.js';
import type { AccessTokenFormat } from './token/format.js';
import type { GrantType } from './token/grants/types.js';

/**
 * An optional feature of the authorization server (a grant type, a token format, a client
 * authentication method…), made by a factory of `@portcullis/core/extensions` and passed in the
 * `extensions` option. Features are opt-in by import, so a Worker bundles only the ones it uses.
 * Applications use the factories; the hooks below are how the core installs them.
 */
export interface Extension {
  /** Short name, for errors and logs (e.g. `token-exchange`). */
  readonly name: string;
  /** Grant types the token endpoint offers in addition to the built-in ones (RFC 6749 §4.5). */
  readonly grantTypes?: readonly GrantType[];
  /**
   * Client authentication methods the token, revocation and introspection endpoints accept in addition
   * to the built-in ones (RFC 7591 §2 `token_endpoint_auth_method`, e.g. RFC 7523 `private_key_jwt`).
   */
  readonly clientAuthentication?: readonly ClientAuthMethod[];
  /** Members this feature adds to the authorization server metadata (RFC 8414 §2). */
  metadata?(core: Core): Readonly<Record<string, unknown>>;
  /** Routes this feature serves under the issuer's base path (e.g. a JWKS). */
  routes?(core: Core): readonly Route[];
  /** An access-token format replacing the opaque one for some resources (e.g. RFC 9068 JWTs); one per server. */
  accessTokenFormat?(core: Core): AccessTokenFormat;
  /** Checks the proof of possession of token requests and binds tokens to it (RFC 9449 §5); one per server. */
  tokenProof?(core: Core): TokenProofCheck;
  /** Checks the proof of possession of bound tokens at the server's own resources (RFC 9449 §7); one per server. */
  resourceProof?(core: Core): ResourceProofCheck;
}
