/**
 * RFC 9068 JWT access tokens: minted with the server's current signing key, and verified (the JWT part
 * only: revocation stays a storage check of the caller) against the server's own JWK Set.
 *
 * Header `typ: at+jwt` and `kid` (RFC 9068 §2.1); claims `iss`, `sub`, `aud` (the resource, RFC 8707),
 * `client_id`, `scope`, `exp`, `iat`, `jti` (§2.2, §2.2.3); optional `cnf.jkt` for DPoP-bound tokens
 * (RFC 9449 §6.1) and `act` for delegation (RFC 8693 §4.1).
 *
 * @module
 */
import { type JSONWebKeySet, type JWTPayload, SignJWT } from 'jose';
import { base64url } from '../crypto/encoding.js';
import {
  audienceList,
  readProtectedHeader,
  requireAlgorithm,
  selectKey,
  stringClaim,
  verifySignature,
} from './jwt.js';
import type { SigningKeys } from './signing-keys.js';
import { JoseError } from './types.js';

/** The JOSE `typ` of a JWT access token (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** An actor of RFC 8693 §4.1: who acts for the subject, possibly itself acting for another. */
export interface ActorClaim {
  /** The actor's subject. */
  readonly sub: string;
  /** The actor's issuer, when not this server. */
  readonly iss?: string;
  /** The client the actor used. */
  readonly client_id?: string;
  /** A prior actor in the chain. */
  readonly act?: ActorClaim;
}

/** What an access token says. */
export interface AccessTokenContent {
  /** The user (`sub`). */
  readonly subject: string;
  /** The resource(s) the token is for (`aud`, RFC 9068 §3). */
  readonly audience: string | readonly string[];
  /** The client it was issued to (`client_id`). */
  readonly clientId: string;
  /** Granted scopes (`scope`, space-separated; omitted when empty). */
  readonly scopes: readonly string[];
  /** Lifetime, seconds; at most the signing keys' `maxTokenLifetimeSeconds`. */
  readonly lifetimeSeconds: number;
  /** The DPoP key thumbprint the token is bound to (`cnf.jkt`, RFC 9449 §6.1). */
  readonly jkt?: string;
  /** The actor chain for delegation (`act`, RFC 8693 §4.1). */
  readonly act?: ActorClaim;
  /** Further claims; registered ones above cannot be overridden. */
  readonly extraClaims?: Readonly<Record<string, unknown>>;
  /** The `jti`, when the caller records the token under it; default 128 random bits. */
  readonly jti?: string;
}

/** A minted token. */
export interface MintedAccessToken {
  /** The compact JWT. */
  readonly token: string;
  /** Its `jti`. */
  readonly jti: string;
  /** Its `exp`, epoch seconds. */
  readonly expiresAt: number;
  /** The `kid` it was signed with. */
  readonly kid: string;
}

/** Options of {@link mintAccessToken}. */
export interface MintOptions {
  /** The issuer identifier (`iss`). */
  readonly issuer: string;
  /** The signing keys. */
  readonly keys: Pick<SigningKeys, 'current' | 'maxTokenLifetimeSeconds'>;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

const REGISTERED = new Set([
  'iss',
  'sub',
  'aud',
  'client_id',
  'scope',
  'exp',
  'iat',
  'nbf',
  'jti',
  'cnf',
  'act',
]);

/** Mints an RFC 9068 access token signed with the current key. */
export async function mintAccessToken(
  content: AccessTokenContent,
  options: MintOptions,
): Promise<MintedAccessToken> {
  const { lifetimeSeconds } = content;
  if (
    !Number.isInteger(lifetimeSeconds) ||
    lifetimeSeconds <= 0 ||
    lifetimeSeconds > options.keys.maxTokenLifetimeSeconds
  )
    throw new TypeError(
      'mintAccessToken: lifetimeSeconds must be a positive integer within maxTokenLifetimeSeconds',
    );
  const extra = Object.entries(content.extraClaims ?? {}).filter(([name]) => !REGISTERED.has(name));
  const key = await options.keys.current();
  const iat = Math.floor((options.now ?? Date.now)() / 1000);
  const expiresAt = iat + lifetimeSeconds;
  const jti = content.jti ?? base64url(crypto.getRandomValues(new Uint8Array(16)));
  const payload: JWTPayload = {
    ...Object.fromEntries(extra),
    iss: options.issuer,
    sub: content.subject,
    aud: typeof content.audience === 'string' ? content.audience : [...content.audience],
    client_id: content.clientId,
    ...(content.scopes.length > 0 ? { scope: content.scopes.join(' ') } : {}),
    iat,
    exp: expiresAt,
    jti,
    ...(content.jkt ? { cnf: { jkt: content.jkt } } : {}),
    ...(content.act ? { act: content.act } : {}),
  };
  const token = await new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
    .sign(key.privateKey);
  return { token, jti, expiresAt, kid: key.kid };
}

/** A verified access token. */
export interface VerifiedAccessToken {
  readonly subject: string;
  readonly clientId: string;
  readonly audiences: readonly string[];
  readonly scopes: readonly string[];
  /** `exp`, epoch seconds. */
  readonly expiresAt: number;
  /** `iat`, epoch seconds. */
  readonly issuedAt: number;
  readonly jti: string;
  /** `cnf.jkt` when the token is DPoP-bound: the caller must then require a matching proof. */
  readonly jkt?: string;
  readonly act?: ActorClaim;
  /** Every claim, for callers that read more. */
  readonly claims: Readonly<JWTPayload>;
}

/** Options of {@link createAccessTokenVerifier}. */
export interface AccessTokenVerifierOptions {
  /** Required `iss`. */
  readonly issuer: string;
  /** This resource's identifier(s); `aud` must contain one (RFC 9068 §4). */
  readonly audience: string | readonly string[];
  /** The issuer's keys: `SigningKeys` of this server (`refresh` is used, rate-limited, on an unknown kid). */
  readonly keys: { jwks(): Promise<JSONWebKeySet>; refresh?(): Promise<void> };
  /** Accepted algorithms; default ES256 and EdDSA. */
  readonly algorithms?: readonly string[];
  /** Allowed clock skew, seconds; default 0. */
  readonly skewSeconds?: number;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

const WHAT = 'access token';
const refuse = (description: string) => new JoseError('invalid_token', description);
const REFRESH_COOLDOWN_MS = 30_000;

/** Creates a verifier of this server's JWT access tokens; refusals are `invalid_token` (RFC 6750 §3.1). */
export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): (token: string) => Promise<VerifiedAccessToken> {
  const now = options.now ?? Date.now;
  const algorithms = options.algorithms ?? ['ES256', 'EdDSA'];
  const accepted = new Set(typeof options.audience === 'string' ? [options.audience] : options.audience);
  let lastRefresh = Number.NEGATIVE_INFINITY;

  return async (token) => {
    const header = readProtectedHeader(token, WHAT, refuse);
    const alg = requireAlgorithm(header, algorithms, WHAT, refuse);
    // RFC 9068 §4: the typ must be at+jwt (checked again by the signature step).
    if (typeof header.typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(header.typ))
      throw refuse('The token is not a JWT access token (typ must be at+jwt).');
    if (typeof header.kid !== 'string') throw refuse(`The access token has no 'kid' header.`);
    let selection = selectKey(await options.keys.jwks(), header, alg);
    if ('problem' in selection && options.keys.refresh && now() - lastRefresh >= REFRESH_COOLDOWN_MS) {
      lastRefresh = now();
      await options.keys.refresh();
      selection = selectKey(await options.keys.jwks(), header, alg);
    }
    if ('problem' in selection) throw refuse('The access token was signed with an unknown key.');
    const payload = await verifySignature(
      token,
      selection.key,
      { alg, typ: ACCESS_TOKEN_TYP, now: now(), skewSeconds: options.skewSeconds ?? 0 },
      WHAT,
      refuse,
    );
    if (payload.iss !== options.issuer) throw refuse('The access token was issued by another issuer.');
    const audiences = audienceList(payload.aud);
    if (!audiences?.some((aud) => accepted.has(aud)))
      throw refuse('The access token was issued for another resource.');
    const subject = stringClaim(payload.sub);
    const clientId = stringClaim(payload.client_id);
    const jti = stringClaim(payload.jti);
    // RFC 9068 §2.2: these claims are required.
    if (!subject || !clientId || !jti || typeof payload.exp !== 'number' || typeof payload.iat !== 'number')
      throw refuse('The access token lacks a required claim (sub, client_id, jti, exp, iat).');
    const cnf = payload.cnf as { jkt?: unknown } | undefined;
    const jkt = stringClaim(cnf?.jkt);
    return {
      subject,
      clientId,
      audiences,
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
      expiresAt: payload.exp,
      issuedAt: payload.iat,
      jti,
      ...(jkt ? { jkt } : {}),
      ...(payload.act ? { act: payload.act as ActorClaim } : {}),
      claims: payload,
    };
  };
}
