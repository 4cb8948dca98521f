import type { Core } from '../../context.js';
import type { ResolvedConfig } from '../../options.js';
import type { AuthMethodName, ClientRecord } from '../../stores/schemas.js';
import type { TokenBinding } from '../binding.js';

/** A token request as a grant type sees it: the form, and the client already authenticated. */
export interface TokenRequest {
  readonly core: Core;
  readonly request: Request;
  /** The form parameters, each present once (RFC 6749 §3.2). */
  readonly form: ReadonlyMap<string, string>;
  /** The authenticated client, which registered this grant type. */
  readonly client: ClientRecord;
  /** How the client authenticated this request (`none` for a public client). */
  readonly authMethod: AuthMethodName;
  /** The DPoP key the request proved (RFC 9449 §5): pass it to `issueTokenResponse` to bind the tokens. */
  readonly binding?: TokenBinding;
}

/** The successful token response (RFC 6749 §5.1); extensions may add members. */
export interface TokenResponseBody {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly scope: string;
  readonly refresh_token?: string;
  readonly [member: string]: unknown;
}

/**
 * A grant type of the token endpoint (RFC 6749 §4): it owns its parameters, its validation and its
 * replay rule. Adding one is a new file plus one line in the registry (`grants/index.ts`); metadata
 * (`grant_types_supported`) and client registration derive from the registry.
 */
export interface GrantType {
  /** The `grant_type` value: an RFC 6749 name or an extension URI (RFC 6749 §4.5). */
  readonly name: string;
  /** Whether this server offers the grant with its configuration (off-by-default extensions). */
  enabled(config: ResolvedConfig): boolean;
  /** Handles one token request for this grant; throws an `OAuthError` to refuse it. */
  handle(request: TokenRequest): Promise<TokenResponseBody>;
}
