import type { Core } from '../context.js';
import {
  assertionClientId,
  CLIENT_ASSERTION_ALGORITHMS,
  createClientAssertionVerifier,
} from '../jose/client-assertion.js';
import { coreJwksFetcher, coreReplayGuard, perCore } from '../jose/for-core.js';
import type { AsymmetricAlgorithm } from '../jose/jwt.js';
import type { HttpFetch } from '../jose/types.js';
import type { ClientAuthMethod } from './authenticate.js';

/** Options of `privateKeyJwt()`. */
export interface PrivateKeyJwtOptions {
  /** Longest accepted time from now to an assertion's `exp`, seconds; default 300. */
  readonly maxLifetimeSeconds?: number;
  /** Allowed clock skew, seconds; default 30. */
  readonly skewSeconds?: number;
  /** Accepted algorithms; default RS256, PS256, ES256, EdDSA (and its name Ed25519). */
  readonly algorithms?: readonly AsymmetricAlgorithm[];
  /** The fetch for `jwks_uri`; default the one of `clientIdMetadataDocuments` (an egress proxy). */
  readonly fetch?: HttpFetch;
}

/** The endpoints an assertion may name as `aud` besides the issuer (OIDC Core §9). */
const AUDIENCE_PATHS = ['/token', '/revoke', '/introspect'];

/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OIDC Core §9): a JWT signed with a key
 * of the client's `jwks` or `jwks_uri`, for registered clients and Client ID Metadata Documents alike.
 * `jti`s are single-use across instances through the storage; every refusal is `invalid_client`.
 */
export function privateKeyJwtMethod(options: PrivateKeyJwtOptions = {}): ClientAuthMethod {
  const verifierFor = perCore((core: Core) =>
    createClientAssertionVerifier({
      issuer: core.config.issuer,
      endpoints: AUDIENCE_PATHS.map((path) => core.endpoint(path)),
      replay: coreReplayGuard(core),
      fetchJwks: coreJwksFetcher(core, options.fetch),
      now: () => core.now(),
      algorithms: options.algorithms ?? CLIENT_ASSERTION_ALGORITHMS,
      ...(options.maxLifetimeSeconds !== undefined ? { maxLifetimeSeconds: options.maxLifetimeSeconds } : {}),
      ...(options.skewSeconds !== undefined ? { skewSeconds: options.skewSeconds } : {}),
    }),
  );
  return {
    name: 'private_key_jwt',
    // RFC 7521 §4.2: the assertion parameters are the credentials.
    presents: ({ form }) => form.has('client_assertion') || form.has('client_assertion_type'),
    clientId: ({ form }) => assertionClientId(form.get('client_assertion') ?? '') ?? form.get('client_id'),
    async verify(core, client, { form }) {
      await verifierFor(core)(
        {
          clientAssertionType: form.get('client_assertion_type'),
          clientAssertion: form.get('client_assertion'),
          clientId: form.get('client_id'),
        },
        { clientId: client.clientId, jwks: client.jwks, jwksUri: client.jwksUri },
      );
      return true;
    },
  };
}
