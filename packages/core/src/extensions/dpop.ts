/**
 * DPoP (RFC 9449): proofs of possession at the token endpoint (§5), tokens bound to the proof key
 * (`cnf.jkt`, `token_type: DPoP`; refresh tokens too for public clients), proofs checked with bound
 * tokens at the server's own resources (§7), `jti` replay caught across instances through the storage
 * (§11.1), optional server nonces (§8, §9), per-client `dpop_bound_access_tokens` (§5.2) and an option
 * to require DPoP for every token.
 *
 * @module
 */
import type { Core } from '../context.js';
import { KeyRing } from '../crypto/keys.js';
import { StorageUnavailableError } from '../errors.js';
import type { Extension } from '../extension.js';
import { createDpopVerifier, DPOP_ALGORITHMS, type DpopVerifierOptions } from '../jose/dpop.js';
import { createDpopNonces, type DpopNonces } from '../jose/dpop-nonce.js';
import { perCore } from '../jose/for-core.js';
import type { AsymmetricAlgorithm } from '../jose/jwt.js';
import { storageReplayGuard } from '../jose/storage-adapters.js';
import { JoseError, type MacKey, type ReplayGuard } from '../jose/types.js';
import type { ResourceProofCheck } from '../resource/proof.js';
import type { Storage } from '../storage/types.js';
import type { TokenProofCheck } from '../token/binding.js';

/** Where the server asks for its nonces (RFC 9449 §8 at the token endpoint, §9 at resources). */
export interface DpopNonceOptions {
  /** Require a server nonce at the token endpoint (§8); default `true`. */
  readonly tokenEndpoint?: boolean;
  /** Require a server nonce at the server's resources (§9); default `true`. */
  readonly resources?: boolean;
  /** How long one nonce window lasts, seconds (a nonce is good for two); default 300. */
  readonly windowSeconds?: number;
}

/** Options of {@link dpop}. */
export interface DpopOptions {
  /** Refuse every token request without a DPoP proof, so every token is bound; default `false`. */
  readonly required?: boolean;
  /** Server-provided nonces (`true` for both places with defaults); default off. */
  readonly nonce?: boolean | DpopNonceOptions;
  /** Accepted proof algorithms; default ES256, ES384, ES512, PS256…, RS256…, EdDSA (`dpop_signing_alg_values_supported`). */
  readonly algorithms?: readonly AsymmetricAlgorithm[];
  /** How old a proof without a nonce may be, seconds; default 60. */
  readonly maxAgeSeconds?: number;
}

const nonceOptions = (nonce: DpopOptions['nonce']): DpopNonceOptions | undefined =>
  nonce === true ? {} : nonce || undefined;

/** The parts the token and resource checks share. */
interface ProofSetup {
  readonly replay: ReplayGuard;
  readonly key: MacKey;
  readonly now: () => number;
}

function verifierOptions(
  options: DpopOptions,
  setup: ProofSetup,
  endpoint: 'token' | 'resource',
  nonces: DpopNonces | undefined,
): DpopVerifierOptions {
  return {
    replay: setup.replay,
    endpoint,
    now: setup.now,
    ...(nonces ? { nonces, requireNonce: true } : {}),
    ...(options.algorithms ? { algorithms: options.algorithms } : {}),
    ...(options.maxAgeSeconds ? { maxAgeSeconds: options.maxAgeSeconds } : {}),
  };
}

function nonceSource(setup: ProofSetup, scope: string, windowSeconds: number | undefined): DpopNonces {
  return createDpopNonces({
    key: setup.key,
    scope,
    now: setup.now,
    ...(windowSeconds ? { windowSeconds } : {}),
  });
}

/** The resource-side check of DPoP proofs (RFC 9449 §7.1), over a replay guard and nonces. */
function resourceCheck(options: DpopOptions, setup: ProofSetup, scope: string): ResourceProofCheck {
  const nonce = nonceOptions(options.nonce);
  const nonces =
    nonce && nonce.resources !== false ? nonceSource(setup, scope, nonce.windowSeconds) : undefined;
  const verify = createDpopVerifier(verifierOptions(options, setup, 'resource', nonces));
  return {
    algorithms: options.algorithms ?? DPOP_ALGORITHMS,
    async check(request, info, scheme) {
      // §7.2: a bound token only in the DPoP scheme; the DPoP scheme only for a bound token.
      if (scheme === 'Bearer' || !info.cnf)
        return {
          ok: false,
          error: 'invalid_token',
          description:
            scheme === 'Bearer'
              ? 'This access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof'
              : 'This access token is not DPoP-bound: send it with the Bearer scheme',
        };
      try {
        const proven = await verify({
          proof: request.headers.get('dpop'),
          method: request.method,
          url: request.url,
          accessToken: info.token,
          boundJkt: info.cnf.jkt,
        });
        return { ok: true, ...(proven.nextNonce ? { headers: { 'DPoP-Nonce': proven.nextNonce } } : {}) };
      } catch (error) {
        if (error instanceof StorageUnavailableError)
          return {
            ok: false,
            error: 'temporarily_unavailable',
            description: 'DPoP proofs cannot be checked now; try again',
          };
        if (!(error instanceof JoseError)) throw error;
        const nonceHeader = error.headers['DPoP-Nonce'];
        return {
          ok: false,
          error:
            error.code === 'use_dpop_nonce' || error.code === 'invalid_token'
              ? error.code
              : 'invalid_dpop_proof',
          description: error.description,
          ...(nonceHeader ? { headers: { 'DPoP-Nonce': nonceHeader } } : {}),
        };
      }
    },
  };
}

/** The token-endpoint check (RFC 9449 §5): verifies a proof when sent, requires one when configured. */
function tokenCheck(core: Core, options: DpopOptions, setup: ProofSetup): TokenProofCheck {
  const nonce = nonceOptions(options.nonce);
  const nonces =
    nonce && nonce.tokenEndpoint !== false ? nonceSource(setup, 'as', nonce.windowSeconds) : undefined;
  const verify = createDpopVerifier(verifierOptions(options, setup, 'token', nonces));
  // The token endpoint as the client addresses it: the issuer's public URL, not an internal one.
  const tokenUrl = core.endpoint('/token');
  return async ({ request, client }) => {
    const proof = request.headers.get('dpop');
    if (proof === null) {
      // §5.2: a client that registered dpop_bound_access_tokens always sends a proof.
      if (options.required || client.dpopBoundAccessTokens)
        throw new JoseError('invalid_dpop_proof', 'This token request needs a DPoP proof (RFC 9449).');
      return {};
    }
    const proven = await verify({ proof, method: request.method, url: tokenUrl });
    return {
      // §5: a public client's refresh token is bound too; a confidential client's is bound by its authentication.
      binding: { jkt: proven.jkt, refresh: client.authMethod === 'none' },
      ...(proven.nextNonce ? { headers: { 'DPoP-Nonce': proven.nextNonce } } : {}),
    };
  };
}

const setupOf = (core: Core): ProofSetup => ({
  replay: storageReplayGuard(core.records, { prefix: 'dpop:' }),
  key: core.keys,
  now: () => core.now(),
});

/**
 * DPoP (RFC 9449) for the authorization server and its own resources.
 *
 * @example
 * ```ts
 * import { dpop } from '@portcullis/core/extensions';
 * createAuthorizationServer({ ...options, extensions: [dpop({ nonce: true })] });
 * ```
 */
export function dpop(options: DpopOptions = {}): Extension {
  const setup = perCore(setupOf);
  return {
    name: 'dpop',
    metadata: () => ({
      dpop_signing_alg_values_supported: [...(options.algorithms ?? DPOP_ALGORITHMS)],
    }),
    tokenProof: (core) => tokenCheck(core, options, setup(core)),
    // One origin, one nonce: the server's resources accept the nonce of its token endpoint (RFC 9449 §9).
    resourceProof: (core) => resourceCheck(options, setup(core), 'as'),
  };
}

/** Options of {@link dpopResourceProof}. */
export interface DpopResourceProofOptions extends Omit<DpopOptions, 'required'> {
  /** Where proof `jti`s are remembered; shared by every instance of the resource server. */
  readonly storage: Storage;
  /** A secret of at least 32 characters for the nonces (any value; the resource server's own). */
  readonly secret: string;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The DPoP check of a resource server in front of another authorization server (or a Portcullis one):
 * pass it as `dpop` to `createResourceServer`.
 */
export function dpopResourceProof(options: DpopResourceProofOptions): ResourceProofCheck {
  return resourceCheck(
    options,
    {
      replay: storageReplayGuard(
        {
          // A storage failure is reported as such (503), not taken for a bad proof.
          increment: (kind, key, expiresAt) =>
            options.storage.increment(kind, key, expiresAt).catch((error: unknown) => {
              throw new StorageUnavailableError('increment dpop', error);
            }),
        },
        { prefix: 'dpop:' },
      ),
      key: new KeyRing([options.secret]),
      now: options.now ?? Date.now,
    },
    'rs',
  );
}
