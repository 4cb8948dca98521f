import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';

/** Where a Cloudflare Access application's assertions come from. */
export interface CloudflareAccessSettings {
  /** The Zero Trust team: `myteam`, `myteam.cloudflareaccess.com` or `https://myteam.cloudflareaccess.com`. */
  readonly teamDomain: string;
  /** The Access application's Audience (AUD) tag(s). */
  readonly audience: string | readonly string[];
  /** Override of the team's certs URL (tests, or a proxy in front of it). */
  readonly jwksUrl?: string;
  /** Allowed clock skew in seconds; default 60. */
  readonly clockToleranceSeconds?: number;
}

/** The header Cloudflare Access adds to every request it lets through. */
export const CF_ACCESS_ASSERTION_HEADER = 'cf-access-jwt-assertion';

/** The team's issuer URL (`https://<team>.cloudflareaccess.com`). */
export function cloudflareAccessIssuer(teamDomain: string): string {
  const host = teamDomain
    .replace(/^https:\/\//, '')
    .replace(/\/+$/, '')
    .toLowerCase();
  const full = host.includes('.') ? host : `${host}.cloudflareaccess.com`;
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(full)) throw new TypeError('invalid Cloudflare Access team domain');
  return `https://${full}`;
}

/** The result of checking an Access assertion. */
export type AccessAssertionResult =
  | { readonly ok: true; readonly claims: JWTPayload & { email?: string } }
  | { readonly ok: false; readonly unavailable: boolean; readonly reason: string };

/**
 * A verifier of Cloudflare Access application tokens: RS256 signature against the team's keys
 * (`/cdn-cgi/access/certs`), `iss` = the team domain, `aud` = the application's AUD tag, `exp`.
 */
export function cloudflareAccessAssertionVerifier(
  settings: CloudflareAccessSettings,
): (token: string, now: number) => Promise<AccessAssertionResult> {
  const issuer = cloudflareAccessIssuer(settings.teamDomain);
  const jwksUrl = new URL(settings.jwksUrl ?? `${issuer}/cdn-cgi/access/certs`);
  const keys: JWTVerifyGetKey = createRemoteJWKSet(jwksUrl, { cacheMaxAge: 600_000 });
  const audience = typeof settings.audience === 'string' ? [settings.audience] : [...settings.audience];
  if (audience.length === 0 || audience.some((a) => a.length === 0)) {
    throw new TypeError('cloudflareAccess: the application audience (AUD tag) is required');
  }
  return async (token, now) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer,
        audience,
        algorithms: ['RS256', 'ES256', 'PS256'],
        currentDate: new Date(now),
        clockTolerance: settings.clockToleranceSeconds ?? 60,
        requiredClaims: ['exp', 'sub'],
      });
      return { ok: true, claims: payload };
    } catch (error) {
      if (error instanceof errors.JWKSTimeout || error instanceof TypeError) {
        return { ok: false, unavailable: true, reason: 'Cloudflare Access keys could not be fetched' };
      }
      if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'aud') {
        return { ok: false, unavailable: false, reason: 'assertion issued for another Access application' };
      }
      if (error instanceof errors.JWTExpired)
        return { ok: false, unavailable: false, reason: 'assertion expired' };
      return { ok: false, unavailable: false, reason: 'invalid Cloudflare Access assertion' };
    }
  };
}
