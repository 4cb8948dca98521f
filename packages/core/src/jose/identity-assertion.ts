/**
 * A short-lived signed assertion of the verified caller, sent to an upstream in a header (like
 * Cloudflare Access's `Cf-Access-Jwt-Assertion`), so the upstream verifies who is calling instead of
 * trusting a forgeable `X-Forwarded-User`.
 *
 * A JWT (RFC 7519) with `iss` (the gateway), `aud` (the upstream, RFC 7519 §4.1.3), `sub`, `iat`, `exp`
 * under a minute later, `jti`, and configurable claims; signed with the gateway's signing key (the
 * upstream verifies with the published JWK Set) or, for upstreams that only verify HMAC, with a shared
 * secret as HS256 (RFC 7518 §3.2: a key of at least 256 bits).
 *
 * @module
 */
import { type JWTPayload, SignJWT } from 'jose';
import { base64url, utf8 } from '../crypto/encoding.js';
import type { SigningKeys } from './signing-keys.js';

/** The verified caller an assertion describes. */
export interface CallerIdentity {
  /** The user (`sub`). */
  readonly subject: string;
  readonly email?: string;
  readonly name?: string;
  /** The OAuth client the caller used (`client_id`). */
  readonly clientId?: string;
  /** Granted scopes (`scope`). */
  readonly scopes?: readonly string[];
}

/** How assertions are signed. */
export type IdentityAssertionSigning =
  /** With the gateway's current signing key; the upstream verifies with the JWK Set. */
  | { readonly keys: Pick<SigningKeys, 'current'> }
  /** With a shared secret (HS256), for upstreams that only verify HMAC. At least 32 bytes. */
  | { readonly hmacSecret: string };

/** Options of {@link createIdentityAssertionSigner}. */
export interface IdentityAssertionOptions {
  /** The gateway's identifier (`iss`). */
  readonly issuer: string;
  /** The upstream's identifier (`aud`). */
  readonly audience: string;
  /** How assertions are signed. */
  readonly signing: IdentityAssertionSigning;
  /** Lifetime, seconds; default 30, below 60. */
  readonly lifetimeSeconds?: number;
  /** Extra claims from the caller; registered claims cannot be overridden. */
  readonly claims?: (caller: CallerIdentity) => Readonly<Record<string, unknown>>;
  /** JOSE `typ` header; default `JWT`. */
  readonly typ?: string;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

const REGISTERED = new Set(['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti']);

/** Creates a signer of identity assertions; returns the compact JWT to send. */
export function createIdentityAssertionSigner(
  options: IdentityAssertionOptions,
): (caller: CallerIdentity) => Promise<string> {
  const lifetime = options.lifetimeSeconds ?? 30;
  if (!Number.isInteger(lifetime) || lifetime <= 0 || lifetime >= 60)
    throw new TypeError('identity assertion: lifetimeSeconds must be an integer from 1 to 59');
  const { signing } = options;
  let hmacKey: Uint8Array | undefined;
  if ('hmacSecret' in signing) {
    hmacKey = utf8(signing.hmacSecret);
    if (hmacKey.byteLength < 32)
      throw new TypeError('identity assertion: hmacSecret must be at least 32 bytes');
  }
  const now = options.now ?? Date.now;

  return async (caller) => {
    const iat = Math.floor(now() / 1000);
    const extra = Object.entries(options.claims?.(caller) ?? {}).filter(([name]) => !REGISTERED.has(name));
    const payload: JWTPayload = {
      ...(caller.email ? { email: caller.email } : {}),
      ...(caller.name ? { name: caller.name } : {}),
      ...(caller.clientId ? { client_id: caller.clientId } : {}),
      ...(caller.scopes?.length ? { scope: caller.scopes.join(' ') } : {}),
      ...Object.fromEntries(extra),
      iss: options.issuer,
      sub: caller.subject,
      aud: options.audience,
      iat,
      nbf: iat,
      exp: iat + lifetime,
      jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
    };
    const typ = options.typ ?? 'JWT';
    if (hmacKey) return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ }).sign(hmacKey);
    const key = await (signing as { keys: Pick<SigningKeys, 'current'> }).keys.current();
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ }).sign(key.privateKey);
  };
}
