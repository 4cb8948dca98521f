import type { TokenRequest } from './grants/types.js';

/** The key new tokens are bound to (RFC 9449 §6: `cnf.jkt`, token type `DPoP`). */
export interface TokenBinding {
  /** The RFC 7638 thumbprint of the proof key. */
  readonly jkt: string;
  /** Bind the refresh token too: a public client's (RFC 9449 §5; a confidential client's is bound by its authentication). */
  readonly refresh: boolean;
}

/** What a proof check concluded for one token request. */
export interface TokenProofResult {
  /** The key the issued tokens are bound to; absent when the request carried no proof. */
  readonly binding?: TokenBinding;
  /** Headers for the token response (e.g. a fresh `DPoP-Nonce`, RFC 9449 §8.2). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Checks the proof of possession a token request carries (RFC 9449 §5), installed by an extension;
 * throws an `OAuthError` to refuse the request.
 */
export type TokenProofCheck = (request: Omit<TokenRequest, 'binding'>) => Promise<TokenProofResult>;
