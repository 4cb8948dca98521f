// RFC 7591 §3.2.2: who may register, as a policy over each registration's validated metadata.

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
