import type { Core } from '../context.js';
import { timingSafeEqual } from '../crypto/hash.js';
import { OAuthError } from '../errors.js';

/** What a registration asks for, as the registration policy sees it (validated metadata). */
export interface RegistrationRequest {
  readonly redirectUris: readonly string[];
  readonly clientName?: string;
  readonly grantTypes: readonly string[];
  /** The registration's HTTP request (headers, client IP through `clientIp`). */
  readonly request: Request;
}

/**
 * A registration policy's answer: `true` admits; a refusal names the RFC 7591 §3.2.2 error
 * (`invalid_redirect_uri` for a redirect URI, `invalid_client_metadata` otherwise) and says why.
 */
export type RegistrationDecision =
  | true
  | {
      readonly error: 'invalid_redirect_uri' | 'invalid_client_metadata';
      readonly description: string;
    };

/** Who may register: a callback over each registration (see {@link redirectUriAllowList}). */
export type RegistrationPolicy = (
  registration: RegistrationRequest,
) => RegistrationDecision | Promise<RegistrationDecision>;

/** Options of {@link redirectUriAllowList}. */
export interface RedirectUriAllowList {
  /** URI schemes allowed, without `:` (e.g. `https`, `http`, `vscode`, `cursor`); default any. */
  readonly schemes?: readonly string[];
  /**
   * Hosts allowed for http(s) redirect URIs: exact (`claude.ai`, `127.0.0.1`) or a leading-dot suffix
   * (`.example.com` matches every subdomain); default any. Loopback hosts must be listed to be allowed.
   */
  readonly hosts?: readonly string[];
}

/** A {@link RegistrationPolicy} admitting only clients whose every redirect URI is on the allow-list. */
export function redirectUriAllowList(allow: RedirectUriAllowList): RegistrationPolicy {
  const schemes = allow.schemes?.map((s) => s.toLowerCase().replace(/:$/, ''));
  const hosts = allow.hosts?.map((h) => h.toLowerCase());
  const hostAllowed = (host: string) =>
    !hosts || hosts.some((h) => (h.startsWith('.') ? host.endsWith(h) : host === h));
  return ({ redirectUris }) => {
    for (const uri of redirectUris) {
      const url = new URL(uri);
      const scheme = url.protocol.slice(0, -1);
      const web = scheme === 'https' || scheme === 'http';
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if ((schemes && !schemes.includes(scheme)) || (web && !hostAllowed(host))) {
        return {
          error: 'invalid_redirect_uri',
          description: `This server does not accept registrations with the redirect URI ${url.protocol}//${url.host}`,
        };
      }
    }
    return true;
  };
}

/**
 * RFC 7591 §3: when initial access tokens are configured, a registration must carry one as a bearer
 * token; without one, or with a wrong one, it gets 401 `invalid_token` (RFC 6750 §3.1).
 */
export async function requireInitialAccessToken(core: Core, request: Request): Promise<void> {
  const accepted = core.config.registration.initialAccessTokens;
  if (accepted.length === 0) return;
  const token = /^Bearer ([\x21-\x7e]+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  let valid = false;
  if (token !== undefined) {
    // Every configured token is compared in constant time, whichever matches.
    for (const candidate of accepted) if (await timingSafeEqual(token, candidate)) valid = true;
  }
  if (!valid) {
    core.config.onEvent({ type: 'registration_refused', reason: 'initial_access_token' });
    throw new OAuthError(
      'invalid_token',
      token === undefined
        ? 'This server requires an initial access token to register a client'
        : 'The initial access token is invalid',
      401,
      { 'WWW-Authenticate': token === undefined ? 'Bearer' : 'Bearer error="invalid_token"' },
    );
  }
}

/** Applies the configured registration policy (RFC 7591 §3.2.2 errors on refusal). */
export async function applyRegistrationPolicy(core: Core, registration: RegistrationRequest): Promise<void> {
  const policy = core.config.registration.policy;
  if (!policy) return;
  const decision = await policy(registration);
  if (decision === true) return;
  core.config.onEvent({ type: 'registration_refused', reason: decision.error });
  throw new OAuthError(decision.error, decision.description);
}
