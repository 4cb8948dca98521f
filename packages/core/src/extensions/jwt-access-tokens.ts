/**
 * RFC 9068 JWT access tokens, opt-in per server or per resource: `typ: at+jwt`, `kid`, and the claims
 * `iss`, `sub`, `aud` (the resource), `client_id`, `scope`, `exp`, `iat`, `jti` (and `cnf.jkt` when
 * DPoP-bound), signed with the server's rotating keys, which it publishes at `jwks_uri`.
 *
 * Every token is still recorded under its `jti`, so revocation works for the server's own resources
 * and introspection; a third-party verifier sees only the signature and claims until `exp`.
 *
 * @module
 */
import { decodeProtectedHeader } from 'jose';
import type { Core } from '../context.js';
import { StorageUnavailableError } from '../errors.js';
import type { Extension } from '../extension.js';
import { createAccessTokenVerifier, mintAccessToken } from '../jose/access-token-jwt.js';
import { perCore } from '../jose/for-core.js';
import type { SigningAlgorithm, SigningKeys } from '../jose/signing-keys.js';
import { JoseError } from '../jose/types.js';
import { invalidOptions } from '../options.js';
import { findResource, sameResource } from '../rules/resource.js';
import type { AccessTokenFormat } from '../token/format.js';
import { coreSigningKeys, jwksParts, type KeyRotationOptions } from './signing-keys.js';

/** Options of {@link jwtAccessTokens}. */
export interface JwtAccessTokensOptions {
  /** Signing algorithm; default `ES256`. Changing it rotates to a key of the new algorithm. */
  readonly alg?: SigningAlgorithm;
  /**
   * Lifetime of JWT access tokens, seconds; default the server's access-token lifetime. Keep it short:
   * a third-party verifier cannot see a revocation before `exp`.
   */
  readonly lifetimeSeconds?: number;
  /** The resource identifiers whose tokens are JWTs; default every resource of the server. */
  readonly resources?: readonly string[];
  /** How the signing keys rotate. */
  readonly keys?: KeyRotationOptions;
  /**
   * The signing keys to use instead of the server's own, e.g. those `signedIdentity` assertions are
   * signed with too (`signingKeys` of this module), so one key manager writes the shared key set. Their
   * `maxTokenLifetimeSeconds` must cover `lifetimeSeconds`.
   */
  readonly signingKeys?: SigningKeys;
}

const looksLikeJwt = (token: string): boolean => {
  if (token.split('.').length !== 3) return false;
  try {
    const { typ } = decodeProtectedHeader(token);
    return typeof typ === 'string' && /^(application\/)?at\+jwt$/i.test(typ);
  } catch {
    return false;
  }
};

/**
 * Issues RFC 9068 JWT access tokens instead of opaque ones.
 *
 * @example
 * ```ts
 * import { jwtAccessTokens } from '@portcullis/core/extensions';
 * createAuthorizationServer({ ...options, extensions: [jwtAccessTokens({ lifetimeSeconds: 600 })] });
 * ```
 */
export function jwtAccessTokens(options: JwtAccessTokensOptions = {}): Extension {
  const lifetimeOf = (core: Core) => options.lifetimeSeconds ?? core.config.lifetimes.access;
  if (
    options.lifetimeSeconds !== undefined &&
    !(Number.isInteger(options.lifetimeSeconds) && options.lifetimeSeconds > 0)
  )
    throw new TypeError('jwtAccessTokens: lifetimeSeconds must be a positive integer');
  const keysOf = perCore((core) => {
    if (!options.signingKeys)
      return coreSigningKeys(core, {
        ...options.keys,
        ...(options.alg ? { algorithm: options.alg } : {}),
        maxTokenLifetimeSeconds: lifetimeOf(core),
      });
    if (options.signingKeys.maxTokenLifetimeSeconds < lifetimeOf(core))
      throw invalidOptions(
        'extensions: jwtAccessTokens signingKeys must have a maxTokenLifetimeSeconds of at least the access-token lifetime',
      );
    return options.signingKeys;
  });

  const format = (core: Core): AccessTokenFormat => {
    const unknown = options.resources?.find((r) => !findResource(core.config.resources, r));
    if (unknown !== undefined)
      throw invalidOptions(
        `extensions: jwtAccessTokens names ${JSON.stringify(unknown.slice(0, 200))}, which is not a configured resource`,
      );
    const keys = keysOf(core);
    const issuer = core.config.issuer;
    const verify = createAccessTokenVerifier({
      issuer,
      audience: core.config.resources.map((r) => r.resource),
      keys,
      now: () => core.now(),
    });
    return {
      lifetimeSeconds: lifetimeOf(core),
      appliesTo: (resource) =>
        options.resources === undefined || options.resources.some((r) => sameResource(r, resource)),
      async encode({ handle, record, subject }) {
        const lifetimeSeconds = Math.max(1, Math.floor((record.expiresAt - core.now()) / 1000));
        const minted = await mintAccessToken(
          {
            subject,
            audience: record.resource,
            clientId: record.clientId,
            scopes: record.scopes,
            lifetimeSeconds,
            jti: handle,
            ...(record.jkt ? { jkt: record.jkt } : {}),
          },
          { issuer, keys, now: () => core.now() },
        );
        return minted.token;
      },
      async decode(token) {
        if (!looksLikeJwt(token)) return undefined;
        try {
          return (await verify(token)).jti;
        } catch (error) {
          if (error instanceof JoseError && error.code === 'invalid_token') return null;
          // Keys being created by another instance: the resource side answers 503, not 500.
          if (error instanceof JoseError && error.code === 'temporarily_unavailable')
            throw new StorageUnavailableError('signing keys', error);
          throw error;
        }
      },
    };
  };

  return {
    name: 'jwt-access-tokens',
    ...jwksParts(keysOf),
    accessTokenFormat: format,
  };
}
