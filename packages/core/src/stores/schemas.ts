/** The records Portcullis keeps, as zod schemas: what is read back from storage is checked, never trusted. */
import * as z from 'zod/mini';

/** Token endpoint client authentication methods a client record can name (RFC 7591 §2, RFC 7523 §2.2). */
export const AUTH_METHOD_NAMES = [
  'none',
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
] as const;
/** A token endpoint client authentication method a client record can name. */
export type AuthMethodName = (typeof AUTH_METHOD_NAMES)[number];
const authMethodName = z.enum(AUTH_METHOD_NAMES);

/** A JSON Web Key Set (RFC 7517 §5) of public keys. */
export const jsonWebKeySet = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });
/** A JSON Web Key Set of public keys, as a client registered it. */
export type JsonWebKeySet = z.infer<typeof jsonWebKeySet>;

/**
 * A registered client (RFC 7591 §2) or a Client ID Metadata Document, with the metadata the server
 * registered (RFC 7591 §3.2.1). Secrets and registration tokens are stored as SHA-256 hashes.
 */
export const clientRecord = z.object({
  clientId: z.string(),
  secretHash: z.optional(z.string()),
  registrationTokenHash: z.optional(z.string()),
  /**
   * `true` for the client identical public re-registrations share: consent is never remembered for it,
   * so every registrant's user approves (MCP security best practices, confused deputy).
   */
  shared: z.optional(z.boolean()),
  /** The registered `token_endpoint_auth_method`. */
  authMethod: authMethodName,
  /** Every method the client may use at the token endpoint, `authMethod` first; absent: `authMethod` only. */
  authMethods: z.optional(z.array(authMethodName)),
  /** The client's public keys for `private_key_jwt` (RFC 7591 §2: `jwks` or `jwks_uri`, never both). */
  jwks: z.optional(jsonWebKeySet),
  jwksUri: z.optional(z.string()),
  /** The JWS algorithm the client signs its assertions with (OIDC Registration §2). */
  tokenEndpointAuthSigningAlg: z.optional(z.string()),
  /** `native` or `web` (OIDC Registration §2). */
  applicationType: z.optional(z.enum(['native', 'web'])),
  redirectUris: z.array(z.string()),
  grantTypes: z.array(z.string()),
  responseTypes: z.array(z.string()),
  clientName: z.optional(z.string()),
  clientUri: z.optional(z.string()),
  logoUri: z.optional(z.string()),
  scope: z.optional(z.string()),
  contacts: z.optional(z.array(z.string())),
  tosUri: z.optional(z.string()),
  policyUri: z.optional(z.string()),
  softwareId: z.optional(z.string()),
  softwareVersion: z.optional(z.string()),
  /** RFC 9449 §5.2: every access token of this client must be DPoP-bound. */
  dpopBoundAccessTokens: z.optional(z.boolean()),
  issuedAt: z.number(),
  /** When the client last authorized or authenticated (epoch seconds), written at most once a day. */
  lastUsedAt: z.optional(z.number()),
});
export type ClientRecord = z.infer<typeof clientRecord>;

/** One authorization: user × client × scopes × resource. Tokens point at it; deleting it revokes them all. */
export const grantRecord = z.object({
  id: z.string(),
  clientId: z.string(),
  userId: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  /** Sealed {@link GrantSecrets}. */
  sealed: z.string(),
  createdAt: z.number(),
  /** Absolute end of the grant (epoch ms); tokens never outlive it. Grants are never rewritten. */
  expiresAt: z.number(),
});
export type GrantRecord = z.infer<typeof grantRecord>;

/** What a grant keeps encrypted: the identity details and the app's props. */
export interface GrantSecrets {
  email?: string;
  name?: string;
  props: Record<string, unknown>;
  upstreamToken?: Record<string, unknown>;
}

/** An authorization code (RFC 6749 §4.1.2) bound to client, redirect URI, PKCE challenge and grant. */
export const codeRecord = z.object({
  grantId: z.string(),
  clientId: z.string(),
  redirectUri: z.string(),
  codeChallenge: z.string(),
  /** Whether the authorization request named redirect_uri (then /token must repeat it, RFC 6749 §4.1.3). */
  redirectUriSent: z.optional(z.boolean()),
  expiresAt: z.number(),
  /** Random salt of the tokens a repeated redemption derives from the code (see `stores/successors.ts`). */
  salt: z.optional(z.string()),
});
export type CodeRecord = z.infer<typeof codeRecord>;

/** An access or refresh token record (the key is the token's hash). */
export const tokenRecord = z.object({
  grantId: z.string(),
  clientId: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  expiresAt: z.number(),
  /** Refresh tokens: random salt of the successor tokens derived from this one (see `stores/successors.ts`). */
  salt: z.optional(z.string()),
  /** The acting party of a delegated token (RFC 8693 §4.1 `act`), e.g. from a token exchange. */
  act: z.optional(z.record(z.string(), z.unknown())),
  /** Access tokens in an extension's format (`jwt`: RFC 9068), looked up by the handle they carry. */
  format: z.optional(z.literal('jwt')),
  /** The DPoP key thumbprint the token is bound to (RFC 9449 §6: `cnf.jkt`). */
  jkt: z.optional(z.string()),
});
export type TokenRecord = z.infer<typeof tokenRecord>;

/**
 * The current upstream IdP token of a grant once it has been refreshed (grants themselves are never
 * rewritten): sealed, with a version that single-flight refreshes bump.
 */
export const upstreamTokenRecord = z.object({
  /** Sealed `UpstreamToken` (AES-GCM, bound to the grant id). */
  sealed: z.string(),
  /** 1 for the first refreshed token, then +1 per refresh (0 is the token captured at login). */
  version: z.int(),
  /** When the IdP issued it (epoch ms). */
  obtainedAt: z.number(),
});
export type UpstreamTokenRecord = z.infer<typeof upstreamTokenRecord>;

/** Remembered consent of one user for one client. */
export const consentRecord = z.object({
  scopes: z.array(z.string()),
  resources: z.array(z.string()),
  at: z.number(),
});
export type ConsentRecord = z.infer<typeof consentRecord>;

/** A validated authorization request waiting for login/consent. */
export const pendingRecord = z.object({
  clientId: z.string(),
  redirectUri: z.string(),
  state: z.optional(z.string()),
  redirectUriSent: z.optional(z.boolean()),
  codeChallenge: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  /** Hash of the browser-binding cookie value. */
  browserHash: z.string(),
  /** The client is a shared one (identical re-registrations): consent is asked every time. */
  sharedClient: z.optional(z.boolean()),
  expiresAt: z.number(),
  /** Sealed upstream state (PKCE verifier, nonce…). */
  upstreamState: z.optional(z.string()),
  /** Sealed identity waiting for the consent page. */
  identity: z.optional(z.string()),
});
export type PendingRecord = z.infer<typeof pendingRecord>;

/**
 * The earlier flow-cookie values of a browser (their hashes), so flows it started before its cookie was
 * replaced by a fresh one can still finish there.
 */
export const browserLinkRecord = z.object({
  previous: z.array(z.string()),
  expiresAt: z.number(),
});
export type BrowserLinkRecord = z.infer<typeof browserLinkRecord>;
