/**
 * DPoP proof verification (RFC 9449 §4.3), at the token endpoint (§5) and at a resource (§7.1): one
 * compact JWT in one `DPoP` header, `typ: dpop+jwt`, an asymmetric `alg`, a public `jwk` header that
 * verifies the signature, `htm` and `htu` matching the request (`htu` without query and fragment, after
 * RFC 3986 §6.2.2/§6.2.3 normalisation), a recent `iat`, a `jti` used once per key across instances
 * (§11.1), `ath` for resource requests (§4.2), the server `nonce` when required (§8, §9), and the key
 * the token is bound to (`cnf.jkt`, §6.1, RFC 7638 thumbprint).
 *
 * @module
 */
import { calculateJwkThumbprint, type JWK } from 'jose';
import { base64url, utf8 } from '../crypto/encoding.js';
import type { DpopNonces } from './dpop-nonce.js';
import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  keyFitsAlgorithm,
  parsePublicJwks,
  readProtectedHeader,
  requireAlgorithm,
  stringClaim,
  verifySignature,
} from './jwt.js';
import { JoseError, type JoseErrorCode, type ReplayGuard } from './types.js';

/** The algorithms accepted, for `dpop_signing_alg_values_supported` (RFC 9449 §5.1). */
export const DPOP_ALGORITHMS: readonly AsymmetricAlgorithm[] = ASYMMETRIC_ALGORITHMS;

/** The JWK SHA-256 thumbprint (RFC 7638 §3), the value of `cnf.jkt` (RFC 9449 §6.1). */
export const jwkThumbprint = (jwk: JWK): Promise<string> => calculateJwkThumbprint(jwk, 'sha256');

/** The `ath` of an access token: base64url(SHA-256(ASCII(token))) (RFC 9449 §4.2). */
export async function accessTokenHash(token: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(token))));
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * The form of an `htu` (or request URL) that is compared (RFC 9449 §4.3 step 9): scheme, host and path,
 * without query and fragment, with case, default port, dot segments (WHATWG URL parsing) and
 * percent-encoding (RFC 3986 §6.2.2.1-2) normalised. `undefined` for what is not an http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const path = url.pathname.replace(/%[0-9A-Fa-f]{2}/g, (encoded) => {
    const char = String.fromCharCode(Number.parseInt(encoded.slice(1), 16));
    return UNRESERVED.test(char) ? char : encoded.toUpperCase();
  });
  return `${url.protocol}//${url.host}${path}`;
}

/** Options of {@link createDpopVerifier}. */
export interface DpopVerifierOptions {
  /** Records each proof's `jti` once per key across instances (RFC 9449 §11.1). */
  readonly replay: ReplayGuard;
  /** Where proofs are checked: `token` (RFC 9449 §5, errors 400) or `resource` (§7.1, errors 401). */
  readonly endpoint: 'token' | 'resource';
  /** Server nonces (§8, §9); without them a proof carrying a nonce is refused. */
  readonly nonces?: DpopNonces;
  /** Require a server nonce in every proof; needs `nonces`. Default `false`. */
  readonly requireNonce?: boolean;
  /** Accepted algorithms; default {@link DPOP_ALGORITHMS}. */
  readonly algorithms?: readonly AsymmetricAlgorithm[];
  /** How old a proof without a valid nonce may be, seconds; default 60. */
  readonly maxAgeSeconds?: number;
  /** Allowed clock skew, seconds; default 5. */
  readonly skewSeconds?: number;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

/** The request a proof came with. */
export interface DpopRequest {
  /** The `DPoP` header value (`Headers.get` joins repeated headers with commas). */
  readonly proof: string | null | undefined;
  /** The request method. */
  readonly method: string;
  /** The request URL as the client addressed it (the public URL, not an internal one). */
  readonly url: string;
  /** At a resource: the access token sent with the proof (checked against `ath`). */
  readonly accessToken?: string;
  /** The `cnf.jkt` the presented token (or refresh token) is bound to. */
  readonly boundJkt?: string;
}

/** A verified proof. */
export interface VerifiedDpopProof {
  /** The thumbprint of the proof key (bind new tokens with it as `cnf.jkt`). */
  readonly jkt: string;
  /** The proof's public key. */
  readonly jwk: JWK;
  /** The proof's `jti`, now used up. */
  readonly jti: string;
  /** The proof's `iat`, epoch seconds. */
  readonly issuedAt: number;
  /** A fresh nonce to send as `DPoP-Nonce` (§8.2) when the proof's nonce is not the current one. */
  readonly nextNonce?: string;
}

const WHAT = 'DPoP proof';
const REPLAY_SLACK_MS = 1000;

/** Creates a DPoP proof verifier; it throws {@link JoseError}s with the RFC 9449 error codes. */
export function createDpopVerifier(
  options: DpopVerifierOptions,
): (request: DpopRequest) => Promise<VerifiedDpopProof> {
  const now = options.now ?? Date.now;
  const algorithms = options.algorithms ?? DPOP_ALGORITHMS;
  const maxAgeSeconds = options.maxAgeSeconds ?? 60;
  const skewSeconds = options.skewSeconds ?? 5;
  const { nonces } = options;
  if (options.requireNonce && !nonces) throw new TypeError('createDpopVerifier: requireNonce needs nonces');
  const atResource = options.endpoint === 'resource';

  const fail = (code: JoseErrorCode, description: string, headers: Record<string, string> = {}) => {
    const status = atResource ? 401 : code === 'invalid_token' ? 401 : 400;
    // §7.1: a resource answers with a DPoP challenge (quoted-string values lose quotes and backslashes).
    const quoted = description.replace(/["\\\r\n]/g, '');
    const challenge: Record<string, string> = atResource
      ? {
          'WWW-Authenticate': `DPoP algs="${algorithms.join(' ')}", error="${code}", error_description="${quoted}"`,
        }
      : {};
    return new JoseError(code, description, status, { ...challenge, ...headers });
  };
  const refuse = (description: string) => fail('invalid_dpop_proof', description);
  const askForNonce = async (description: string) =>
    fail('use_dpop_nonce', description, { 'DPoP-Nonce': await nonces!.current() });

  return async (request) => {
    // §4.3 steps 1-2: exactly one DPoP header holding one JWT.
    if (typeof request.proof === 'string' && request.proof.includes(','))
      throw refuse('The request must carry exactly one DPoP header.');
    const header = readProtectedHeader(request.proof, WHAT, refuse);
    const proof = request.proof!;
    // §4.3 steps 4-5.
    if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt')
      throw refuse(`The DPoP proof must have 'typ': 'dpop+jwt'.`);
    const alg = requireAlgorithm(header, algorithms, WHAT, refuse);
    // §4.3 step 7: the jwk header is a public key that fits the algorithm.
    const keySet = parsePublicJwks({ keys: [header.jwk] });
    if (typeof keySet === 'string' || !keyFitsAlgorithm(keySet.keys[0]!, alg))
      throw refuse(`The DPoP proof 'jwk' header must be a public key for its algorithm.`);
    const jwk = keySet.keys[0]!;
    const at = now();
    // §4.3 step 6.
    const payload = await verifySignature(
      proof,
      jwk,
      { alg, typ: 'dpop+jwt', now: at, skewSeconds },
      WHAT,
      refuse,
    );
    const jti = stringClaim(payload.jti);
    const { htm, htu, iat } = payload;
    // §4.3 step 3: the required claims.
    if (
      !jti ||
      jti.length > 256 ||
      typeof htm !== 'string' ||
      typeof htu !== 'string' ||
      typeof iat !== 'number'
    )
      throw refuse(`The DPoP proof must have 'jti', 'htm', 'htu' and a numeric 'iat'.`);
    // §4.3 steps 8-9.
    if (htm !== request.method) throw refuse(`The DPoP proof 'htm' does not match the request method.`);
    const expected = normalizeHtu(request.url);
    if (!expected || normalizeHtu(htu) !== expected)
      throw refuse(`The DPoP proof 'htu' does not match the request URL.`);

    // §4.3 step 10, §8, §9: the server nonce.
    const nonce = payload.nonce;
    let nonceState: 'current' | 'previous' | undefined;
    if (nonce !== undefined) {
      if (!nonces) throw refuse('This server does not issue DPoP nonces.');
      const checked = typeof nonce === 'string' ? await nonces.check(nonce) : 'invalid';
      if (checked === 'invalid') throw await askForNonce('The DPoP proof nonce is invalid or expired.');
      nonceState = checked;
    } else if (options.requireNonce) {
      throw await askForNonce('The DPoP proof must carry the server nonce.');
    }
    // §4.3 step 11, §11.1: a recent iat; with a valid nonce, freshness is the nonce's lifetime.
    const nowSeconds = at / 1000;
    const maxAge = nonceState ? nonces!.lifetimeSeconds : maxAgeSeconds;
    if (iat > nowSeconds + skewSeconds) throw refuse(`The DPoP proof was issued in the future ('iat').`);
    if (iat < nowSeconds - maxAge - skewSeconds) {
      if (nonces && !nonceState) throw await askForNonce('The DPoP proof is too old; use the server nonce.');
      throw refuse(`The DPoP proof is too old ('iat').`);
    }
    // §4.3 step 12, §7.1: at a resource, the proof covers this access token.
    if (request.accessToken !== undefined && payload.ath !== (await accessTokenHash(request.accessToken)))
      throw refuse(`The DPoP proof 'ath' does not match the access token.`);
    const jkt = await jwkThumbprint(jwk);
    // §6.1, §5: the token is bound to this proof key.
    if (request.boundJkt !== undefined && request.boundJkt !== jkt)
      throw fail(
        atResource ? 'invalid_token' : 'invalid_grant',
        'The DPoP proof key is not the key the token is bound to.',
      );
    // §11.1: each proof once; kept as long as it could be accepted.
    const keepUntil = Math.max((iat + maxAge + skewSeconds) * 1000, at + maxAge * 1000) + REPLAY_SLACK_MS;
    if (!(await options.replay.claimOnce(`dpop\n${jkt}\n${jti}`, keepUntil)))
      throw refuse(`The DPoP proof was already used (replayed 'jti').`);
    const nextNonce = nonces && nonceState !== 'current' ? await nonces.current() : undefined;
    return { jkt, jwk, jti, issuedAt: iat, ...(nextNonce ? { nextNonce } : {}) };
  };
}
