/**
 * Verification of an Identity Assertion JWT Authorization Grant (ID-JAG), the grant of the MCP
 * Enterprise-Managed Authorization extension (modelcontextprotocol/ext-auth
 * `specification/stable/enterprise-managed-authorization.mdx` §5, SEP-990), defined by
 * draft-ietf-oauth-identity-assertion-authz-grant-04 (§3.1 claims, §4.4.1 processing rules) as a
 * profile of the RFC 7523 §2.1 JWT bearer grant (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
 * the ID-JAG in `assertion`).
 *
 * The ID-JAG must have `typ: oauth-id-jag+jwt`, come from a configured trusted IdP (its issuer, signed by
 * a key of its JWK Set), name this authorization server's issuer as its only audience, carry the
 * `client_id` of the client that authenticated the request, a `sub`, `exp`, `iat` and a `jti` accepted
 * once. Every refusal is `invalid_grant` (RFC 7521 §5.2, RFC 7523 §3.1). Granting (the scope
 * intersection of ext-auth §7.2.1, the audience restriction to `resource` of §5.1) is the caller's.
 *
 * Single use is stricter than draft §4.4.3, which lets a client re-submit an unexpired ID-JAG for a new
 * access token: here the client asks its IdP for a new ID-JAG instead (which §4.4.3 also describes).
 *
 * @module
 */
import { decodeJwt, type JSONWebKeySet, type JWTPayload } from 'jose';
import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  checkTimeClaims,
  parsePublicJwks,
  readProtectedHeader,
  requireAlgorithm,
  selectKey,
  stringClaim,
  verifySignature,
} from './jwt.js';
import { type FetchJwks, JoseError, type ReplayGuard } from './types.js';

/** The JOSE `typ` of an ID-JAG (draft §3.1). */
export const ID_JAG_TYP = 'oauth-id-jag+jwt';
/** The grant type it is presented with (RFC 7523 §2.1, draft §4.4). */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The value for `authorization_grant_profiles_supported` in AS metadata (draft §7, ext-auth §6). */
export const ID_JAG_GRANT_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';

/** An identity provider whose ID-JAGs this server accepts. */
export interface TrustedIdp {
  /** The IdP's issuer identifier (`iss`, compared exactly). */
  readonly issuer: string;
  /** The IdP's JWK Set URL. Exactly one of `jwksUri` and `jwks`. */
  readonly jwksUri?: string;
  /** The IdP's JWK Set, inline. */
  readonly jwks?: JSONWebKeySet;
  /** Accepted algorithms; default RS256, PS256, ES256, EdDSA. */
  readonly algorithms?: readonly AsymmetricAlgorithm[];
}

/** Options of {@link createIdJagVerifier}. */
export interface IdJagVerifierOptions {
  /** This authorization server's issuer identifier: the only `aud` accepted. */
  readonly issuer: string;
  /** The trusted IdPs. */
  readonly trustedIdps: readonly TrustedIdp[];
  /** Records each `jti` once across instances (RFC 7523 §3 item 7). */
  readonly replay: ReplayGuard;
  /** Fetches IdP `jwks_uri`s (see `createJwksFetcher`). */
  readonly fetchJwks: FetchJwks;
  /** Longest accepted time from now to `exp`, seconds; default 600. */
  readonly maxLifetimeSeconds?: number;
  /** Allowed clock skew, seconds; default 30. */
  readonly skewSeconds?: number;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

/** What a verified ID-JAG grants (before the server's own policy). */
export interface VerifiedIdJag {
  /** The IdP (`iss`). */
  readonly issuer: string;
  /** The user at the IdP (`sub`). */
  readonly subject: string;
  /** The client it was issued for (`client_id`), equal to the authenticated client. */
  readonly clientId: string;
  /** Resource identifiers (`resource`, RFC 8707 §2), possibly empty. */
  readonly resources: readonly string[];
  /** Scopes (`scope`, RFC 6749 §3.3), possibly empty. */
  readonly scopes: readonly string[];
  readonly jti: string;
  /** `exp`, epoch seconds. */
  readonly expiresAt: number;
  /** `iat`, epoch seconds. */
  readonly issuedAt: number;
  /** Every claim (`email`, `tenant`, `auth_time`, `acr`, `amr`, `act`, …). */
  readonly claims: Readonly<JWTPayload>;
}

/** Verifies an ID-JAG presented by the client that authenticated the request. */
export type IdJagVerifier = (assertion: string, authenticatedClientId: string) => Promise<VerifiedIdJag>;

const WHAT = 'ID-JAG';
const refuse = (description: string) => new JoseError('invalid_grant', description);

/** RFC 8707 §2: absolute URIs without a fragment. */
function resourceList(value: unknown): string[] | undefined {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  for (const item of list) {
    if (typeof item !== 'string' || item.includes('#')) return undefined;
    try {
      new URL(item);
    } catch {
      return undefined;
    }
  }
  return list as string[];
}

/** Creates the ID-JAG verifier. */
export function createIdJagVerifier(options: IdJagVerifierOptions): IdJagVerifier {
  const now = options.now ?? Date.now;
  const skewSeconds = options.skewSeconds ?? 30;
  const maxLifetimeSeconds = options.maxLifetimeSeconds ?? 600;
  for (const idp of options.trustedIdps) {
    if ((idp.jwks === undefined) === (idp.jwksUri === undefined))
      throw new TypeError(`ID-JAG: trusted IdP ${idp.issuer} needs exactly one of jwks and jwksUri`);
    // Draft §8.3: an authorization server does not honour ID-JAGs it issued itself.
    if (idp.issuer === options.issuer) throw new TypeError('ID-JAG: a trusted IdP cannot be this issuer');
    const problem = idp.jwks && parsePublicJwks(idp.jwks);
    if (typeof problem === 'string') throw new TypeError(`ID-JAG: the jwks of ${idp.issuer}: ${problem}`);
  }
  const byIssuer = new Map(options.trustedIdps.map((idp) => [idp.issuer, idp]));

  async function keySet(idp: TrustedIdp, refresh: boolean): Promise<JSONWebKeySet> {
    if (idp.jwks) return idp.jwks;
    try {
      return await options.fetchJwks(idp.jwksUri!, { refresh });
    } catch (error) {
      throw refuse(
        `The identity provider's keys are unavailable${error instanceof JoseError ? `: ${error.description}` : '.'}`,
      );
    }
  }

  return async (assertion, authenticatedClientId) => {
    const header = readProtectedHeader(assertion, WHAT, refuse);
    // Draft §4.4.1, RFC 8725 §3.11: the explicit type keeps other JWTs (ID tokens) out.
    if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== ID_JAG_TYP)
      throw refuse(`The assertion is not an ID-JAG ('typ' must be ${ID_JAG_TYP}).`);
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(assertion);
    } catch {
      throw refuse('The ID-JAG payload is malformed.');
    }
    const idp = typeof unverified.iss === 'string' ? byIssuer.get(unverified.iss) : undefined;
    if (!idp) throw refuse('The ID-JAG was not issued by a trusted identity provider.');
    const alg = requireAlgorithm(header, idp.algorithms ?? ASYMMETRIC_ALGORITHMS, WHAT, refuse);
    let selection = selectKey(await keySet(idp, false), header, alg);
    if ('problem' in selection && selection.problem === 'unknown_kid' && idp.jwksUri)
      selection = selectKey(await keySet(idp, true), header, alg);
    if ('problem' in selection)
      throw refuse('The ID-JAG was signed with a key the identity provider does not publish.');
    const at = now();
    const payload = await verifySignature(
      assertion,
      selection.key,
      { alg, typ: ID_JAG_TYP, now: at, skewSeconds },
      WHAT,
      refuse,
    );

    if (payload.iss !== idp.issuer) throw refuse('The ID-JAG was not issued by a trusted identity provider.');
    // Draft §4.4.1: the issuer of this server, as a string or as the single element of an array.
    const aud = payload.aud;
    const audience = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;
    if (audience !== options.issuer)
      throw refuse("The ID-JAG audience must be this authorization server's issuer.");
    // Draft §4.4.1: the client_id claim names the client that authenticated this request.
    if (payload.client_id !== authenticatedClientId)
      throw refuse('The ID-JAG was issued for another client (client_id).');
    const subject = stringClaim(payload.sub);
    if (!subject) throw refuse(`The ID-JAG must have a 'sub' claim.`);
    const expiresAt = checkTimeClaims(
      payload,
      { now: at, skewSeconds, maxLifetimeSeconds, requireIat: true },
      WHAT,
      refuse,
    );
    const resources = resourceList(payload.resource);
    if (!resources) throw refuse(`The ID-JAG 'resource' claim must be absolute URIs without a fragment.`);
    if (payload.scope !== undefined && typeof payload.scope !== 'string')
      throw refuse(`The ID-JAG 'scope' claim must be a string.`);
    const jti = stringClaim(payload.jti);
    if (!jti || jti.length > 256) throw refuse(`The ID-JAG must have a 'jti' claim.`);
    // RFC 7523 §3 item 7: each ID-JAG is redeemed once.
    if (!(await options.replay.claimOnce(`id-jag\n${idp.issuer}\n${jti}`, (expiresAt + skewSeconds) * 1000)))
      throw refuse(`The ID-JAG was already used (replayed 'jti').`);
    return {
      issuer: idp.issuer,
      subject,
      clientId: authenticatedClientId,
      resources,
      scopes: (payload.scope ?? '').split(' ').filter(Boolean),
      jti,
      expiresAt,
      issuedAt: payload.iat as number,
      claims: payload,
    };
  };
}
