/** The records Portcullis keeps, as schemas: what is read back from storage is checked, never trusted. */
import * as v from '../validation/schema.js';

/** Token endpoint client authentication methods a client record can name (RFC 7591 §2, RFC 7523 §2.2). */
export const AUTH_METHOD_NAMES = [
  'none',
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
] as const;
/** A token endpoint client authentication method a client record can name. */
export type AuthMethodName = (typeof AUTH_METHOD_NAMES)[number];
const authMethodName = v.oneOf(AUTH_METHOD_NAMES);

/** A JSON Web Key Set (RFC 7517 §5) of public keys. */
export const jsonWebKeySet = v.object({ keys: v.array(v.record()) });
/** A JSON Web Key Set of public keys, as a client registered it. */
export type JsonWebKeySet = v.Infer<typeof jsonWebKeySet>;

/**
 * A registered client (RFC 7591 §2) or a Client ID Metadata Document, with the metadata the server
 * registered (RFC 7591 §3.2.1). Secrets and registration tokens are stored as SHA-256 hashes.
 */
export const clientRecord = v.object({
  clientId: v.string(),
  secretHash: v.optional(v.string()),
  registrationTokenHash: v.optional(v.string()),
  /**
   * `true` for the client identical public re-registrations share: consent is never remembered for it,
   * so every registrant's user approves (MCP security best practices, confused deputy).
   */
  shared: v.optional(v.boolean()),
  /** The registered `token_endpoint_auth_method`. */
  authMethod: authMethodName,
  /** Every method the client may use at the token endpoint, `authMethod` first; absent: `authMethod` only. */
  authMethods: v.optional(v.array(authMethodName)),
  /** The client's public keys for `private_key_jwt` (RFC 7591 §2: `jwks` or `jwks_uri`, never both). */
  jwks: v.optional(jsonWebKeySet),
  jwksUri: v.optional(v.string()),
  /** The JWS algorithm the client signs its assertions with (OIDC Registration §2). */
  tokenEndpointAuthSigningAlg: v.optional(v.string()),
  /** `native` or `web` (OIDC Registration §2). */
  applicationType: v.optional(v.oneOf(['native', 'web'])),
  redirectUris: v.array(v.string()),
  grantTypes: v.array(v.string()),
  responseTypes: v.array(v.string()),
  clientName: v.optional(v.string()),
  clientUri: v.optional(v.string()),
  logoUri: v.optional(v.string()),
  scope: v.optional(v.string()),
  contacts: v.optional(v.array(v.string())),
  tosUri: v.optional(v.string()),
  policyUri: v.optional(v.string()),
  softwareId: v.optional(v.string()),
  softwareVersion: v.optional(v.string()),
  /** RFC 9449 §5.2: every access token of this client must be DPoP-bound. */
  dpopBoundAccessTokens: v.optional(v.boolean()),
  issuedAt: v.number(),
  /** When the client last authorized or authenticated (epoch seconds), written at most once a day. */
  lastUsedAt: v.optional(v.number()),
});
export type ClientRecord = v.Infer<typeof clientRecord>;

/** One authorization: user × client × scopes × resource. Tokens point at it; deleting it revokes them all. */
export const grantRecord = v.object({
  id: v.string(),
  clientId: v.string(),
  userId: v.string(),
  scopes: v.array(v.string()),
  resource: v.string(),
  /** Sealed {@link GrantSecrets}. */
  sealed: v.string(),
  createdAt: v.number(),
  /** Absolute end of the grant (epoch ms); tokens never outlive it. Grants are never rewritten. */
  expiresAt: v.number(),
});
export type GrantRecord = v.Infer<typeof grantRecord>;

/** What a grant keeps encrypted: the identity details and the app's props. */
export interface GrantSecrets {
  email?: string;
  name?: string;
  props: Record<string, unknown>;
  upstreamToken?: Record<string, unknown>;
}

/** An authorization code (RFC 6749 §4.1.2) bound to client, redirect URI, PKCE challenge and grant. */
export const codeRecord = v.object({
  grantId: v.string(),
  clientId: v.string(),
  redirectUri: v.string(),
  codeChallenge: v.string(),
  /** Whether the authorization request named redirect_uri (then /token must repeat it, RFC 6749 §4.1.3). */
  redirectUriSent: v.optional(v.boolean()),
  expiresAt: v.number(),
  /** Random salt of the tokens a repeated redemption derives from the code (see `stores/successors.ts`). */
  salt: v.optional(v.string()),
});
export type CodeRecord = v.Infer<typeof codeRecord>;

/** An access or refresh token record (the key is the token's hash). */
export const tokenRecord = v.object({
  grantId: v.string(),
  clientId: v.string(),
  scopes: v.array(v.string()),
  resource: v.string(),
  expiresAt: v.number(),
  /** Refresh tokens: random salt of the successor tokens derived from this one (see `stores/successors.ts`). */
  salt: v.optional(v.string()),
  /** The acting party of a delegated token (RFC 8693 §4.1 `act`), e.g. from a token exchange. */
  act: v.optional(v.record()),
  /** Access tokens in an extension's format (`jwt`: RFC 9068), looked up by the handle they carry. */
  format: v.optional(v.oneOf(['jwt'])),
  /** The DPoP key thumbprint the token is bound to (RFC 9449 §6: `cnf.jkt`). */
  jkt: v.optional(v.string()),
});
export type TokenRecord = v.Infer<typeof tokenRecord>;

/**
 * The current upstream IdP token of a grant once it has been refreshed (grants themselves are never
 * rewritten): sealed, with a version that single-flight refreshes bump.
 */
export const upstreamTokenRecord = v.object({
  /** Sealed `UpstreamToken` (AES-GCM, bound to the grant id). */
  sealed: v.string(),
  /** 1 for the first refreshed token, then +1 per refresh (0 is the token captured at login). */
  version: v.int(),
  /** When the IdP issued it (epoch ms). */
  obtainedAt: v.number(),
});
export type UpstreamTokenRecord = v.Infer<typeof upstreamTokenRecord>;

/** Remembered consent of one user for one client. */
export const consentRecord = v.object({
  scopes: v.array(v.string()),
  resources: v.array(v.string()),
  at: v.number(),
});
export type ConsentRecord = v.Infer<typeof consentRecord>;

/** A validated authorization request waiting for login/consent. */
export const pendingRecord = v.object({
  clientId: v.string(),
  redirectUri: v.string(),
  state: v.optional(v.string()),
  redirectUriSent: v.optional(v.boolean()),
  codeChallenge: v.string(),
  scopes: v.array(v.string()),
  resource: v.string(),
  /** Hash of the browser-binding cookie value. */
  browserHash: v.string(),
  /** The client is a shared one (identical re-registrations): consent is asked every time. */
  sharedClient: v.optional(v.boolean()),
  expiresAt: v.number(),
  /** Sealed upstream state (PKCE verifier, nonce…). */
  upstreamState: v.optional(v.string()),
  /** Sealed identity waiting for the consent page. */
  identity: v.optional(v.string()),
});
export type PendingRecord = v.Infer<typeof pendingRecord>;

/**
 * The earlier flow-cookie values of a browser (their hashes), so flows it started before its cookie was
 * replaced by a fresh one can still finish there.
 */
export const browserLinkRecord = v.object({
  previous: v.array(v.string()),
  expiresAt: v.number(),
});
export type BrowserLinkRecord = v.Infer<typeof browserLinkRecord>;
