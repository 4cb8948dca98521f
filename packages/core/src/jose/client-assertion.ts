/**
 * `private_key_jwt` client authentication: verifies the JWT a client signs with its own key
 * (RFC 7523 §2.2 and §3, RFC 7521 §4.2, OIDC Core §9).
 *
 * The assertion must be of type `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, signed with an
 * asymmetric algorithm by a key of the client's `jwks` or `jwks_uri`, with `iss` = `sub` = the client_id,
 * an `aud` naming this server (its issuer or one of its endpoint URLs), a bounded `exp` and a `jti` that
 * is accepted once across every instance. Every refusal is `invalid_client` (RFC 7521 §4.2.1).
 *
 * @module
 */
import { decodeJwt, type JSONWebKeySet } from 'jose';
import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  audienceList,
  checkTimeClaims,
  parsePublicJwks,
  readProtectedHeader,
  requireAlgorithm,
  selectKey,
  stringClaim,
  verifySignature,
} from './jwt.js';
import { type FetchJwks, JoseError, type ReplayGuard } from './types.js';

/** The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2). */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The algorithms accepted, for `token_endpoint_auth_signing_alg_values_supported` (RFC 8414 §2). */
export const CLIENT_ASSERTION_ALGORITHMS: readonly AsymmetricAlgorithm[] = ASYMMETRIC_ALGORITHMS;

/** The client an assertion claims to be, as registered (RFC 7591 §2 `jwks` / `jwks_uri`). */
export interface AssertingClient {
  /** The client_id. */
  readonly clientId: string;
  /** The client's inline JWK Set, as registered (validated here). */
  readonly jwks?: unknown;
  /** The URL of the client's JWK Set. */
  readonly jwksUri?: string;
}

/** The client-authentication parameters of a request (RFC 7521 §4.2). */
export interface ClientAssertionParameters {
  /** `client_assertion_type`. */
  readonly clientAssertionType: string | undefined;
  /** `client_assertion`. */
  readonly clientAssertion: string | undefined;
  /** `client_id`, when the request carries it. */
  readonly clientId?: string | undefined;
}

/** Options of {@link createClientAssertionVerifier}. */
export interface ClientAssertionVerifierOptions {
  /** This server's issuer identifier (RFC 8414 §2), accepted as `aud`. */
  readonly issuer: string;
  /** This server's endpoint URLs (token, revocation, introspection), each accepted as `aud` too. */
  readonly endpoints?: readonly string[];
  /** Records each `jti` once across instances. */
  readonly replay: ReplayGuard;
  /** Fetches a `jwks_uri` (see `createJwksFetcher`). */
  readonly fetchJwks: FetchJwks;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
  /** Longest accepted time from now to `exp`, seconds; default 300. */
  readonly maxLifetimeSeconds?: number;
  /** Allowed clock skew, seconds; default 30. */
  readonly skewSeconds?: number;
  /** Accepted algorithms; default {@link CLIENT_ASSERTION_ALGORITHMS}. */
  readonly algorithms?: readonly AsymmetricAlgorithm[];
}

/** What a verified assertion established. */
export interface VerifiedClientAssertion {
  /** The authenticated client_id. */
  readonly clientId: string;
  /** The assertion's `jti`, now used up. */
  readonly jti: string;
  /** The assertion's `exp`, epoch seconds. */
  readonly expiresAt: number;
  /** The algorithm it was signed with. */
  readonly alg: string;
  /** The `kid` of the key that verified it, when the key has one. */
  readonly kid?: string;
}

/** Verifies one assertion for one client; throws an `invalid_client` {@link JoseError}. */
export type ClientAssertionVerifier = (
  parameters: ClientAssertionParameters,
  client: AssertingClient,
) => Promise<VerifiedClientAssertion>;

const WHAT = 'client assertion';
const refuse = (description: string) => new JoseError('invalid_client', description);

/**
 * The client_id an assertion claims (its `sub`, when `iss` equals it; RFC 7523 §3 items 1-2), read
 * without verifying anything, so the caller can load the client before calling the verifier.
 */
export function assertionClientId(assertion: string): string | undefined {
  try {
    const { iss, sub } = decodeJwt(assertion);
    return typeof sub === 'string' && sub.length > 0 && iss === sub ? sub : undefined;
  } catch {
    return undefined;
  }
}

/** Creates the `private_key_jwt` verifier. */
export function createClientAssertionVerifier(
  options: ClientAssertionVerifierOptions,
): ClientAssertionVerifier {
  const now = options.now ?? Date.now;
  const skewSeconds = options.skewSeconds ?? 30;
  const maxLifetimeSeconds = options.maxLifetimeSeconds ?? 300;
  const algorithms = options.algorithms ?? CLIENT_ASSERTION_ALGORITHMS;
  const audiences = new Set([options.issuer, ...(options.endpoints ?? [])]);

  async function keySet(client: AssertingClient, refresh: boolean): Promise<JSONWebKeySet> {
    if (client.jwks !== undefined) {
      const jwks = parsePublicJwks(client.jwks);
      if (typeof jwks === 'string') throw refuse(`The client's registered jwks is not usable: ${jwks}.`);
      return jwks;
    }
    if (client.jwksUri === undefined) throw refuse('The client has no registered keys (jwks or jwks_uri).');
    try {
      return await options.fetchJwks(client.jwksUri, { refresh });
    } catch (error) {
      throw error instanceof JoseError
        ? refuse(error.description)
        : refuse('The client keys are unavailable.');
    }
  }

  return async (parameters, client) => {
    // RFC 7521 §4.2: the assertion type names the profile.
    if (parameters.clientAssertionType !== CLIENT_ASSERTION_TYPE)
      throw refuse(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}.`);
    const assertion = parameters.clientAssertion;
    const header = readProtectedHeader(assertion, WHAT, refuse);
    const alg = requireAlgorithm(header, algorithms, WHAT, refuse);
    // RFC 7521 §4.2: a client_id parameter must name the same client as the assertion.
    if (parameters.clientId !== undefined && parameters.clientId !== client.clientId)
      throw refuse('The client_id parameter does not match the client assertion.');
    if (assertionClientId(assertion!) !== client.clientId)
      throw refuse(`The client assertion must have 'iss' and 'sub' equal to the client_id.`);

    let selection = selectKey(await keySet(client, false), header, alg);
    if ('problem' in selection && selection.problem === 'unknown_kid' && client.jwks === undefined)
      selection = selectKey(await keySet(client, true), header, alg);
    if ('problem' in selection) {
      throw refuse(
        selection.problem === 'unknown_kid'
          ? 'The client assertion was signed with a key (kid) the client has not published.'
          : selection.problem === 'ambiguous'
            ? `The client assertion has no 'kid' and the client publishes several keys for its algorithm.`
            : 'The client publishes no key for the algorithm of the client assertion.',
      );
    }
    const at = now();
    const payload = await verifySignature(
      assertion!,
      selection.key,
      { alg, now: at, skewSeconds },
      WHAT,
      refuse,
    );

    // RFC 7523 §3 items 1-2 (checked again on the verified claims).
    if (payload.iss !== client.clientId || payload.sub !== client.clientId)
      throw refuse(`The client assertion must have 'iss' and 'sub' equal to the client_id.`);
    // RFC 7523 §3 item 3, OIDC Core §9: the issuer or the endpoint URL, alone or in an array.
    const aud = audienceList(payload.aud);
    if (!aud?.some((value) => audiences.has(value)))
      throw refuse(`The client assertion 'aud' must be this server's issuer or endpoint URL.`);
    const expiresAt = checkTimeClaims(payload, { now: at, skewSeconds, maxLifetimeSeconds }, WHAT, refuse);
    // RFC 7523 §3 item 7, OIDC Core §9: the jti is used once.
    const jti = stringClaim(payload.jti);
    if (!jti || jti.length > 256) throw refuse(`The client assertion must have a 'jti' claim.`);
    const first = await options.replay.claimOnce(
      `client-assertion\n${client.clientId}\n${jti}`,
      (expiresAt + skewSeconds) * 1000,
    );
    if (!first) throw refuse(`The client assertion was already used (replayed 'jti').`);
    return {
      clientId: client.clientId,
      jti,
      expiresAt,
      alg,
      ...(selection.key.kid ? { kid: selection.key.kid } : {}),
    };
  };
}
