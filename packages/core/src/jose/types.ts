/**
 * The small interfaces the JOSE building blocks take injected, and the one error they throw.
 *
 * Every module in this folder is standalone: it gets its clock, its single-use store, its key fetcher
 * and its sealing keys from the caller, so the same code runs on Node and Workers and over every storage.
 *
 * @module
 */
import type { JSONWebKeySet } from 'jose';
import { OAuthError } from '../errors.js';

export type { JSONWebKeySet };

/**
 * The error codes these modules produce: RFC 6749 §5.2 (`invalid_request`, `invalid_client`,
 * `invalid_grant`), RFC 6750 §3.1 (`invalid_token`), RFC 9449 §5, §7.1 and §8 (`invalid_dpop_proof`,
 * `use_dpop_nonce`) and RFC 6749 §4.1.2.1 (`server_error`, `temporarily_unavailable`).
 */
export type JoseErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_token'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'server_error'
  | 'temporarily_unavailable';

const DEFAULT_STATUS: Readonly<Record<JoseErrorCode, number>> = {
  invalid_request: 400,
  // RFC 6749 §5.2: a failed client authentication may answer 401.
  invalid_client: 401,
  invalid_grant: 400,
  invalid_token: 401,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  server_error: 500,
  temporarily_unavailable: 503,
};

/**
 * A refusal of the JOSE building blocks: an {@link OAuthError} (rendered like every other error) whose
 * status defaults from its code, with headers the response must carry (e.g. `DPoP-Nonce`).
 */
export class JoseError extends OAuthError {
  declare readonly code: JoseErrorCode;

  constructor(
    code: JoseErrorCode,
    description: string,
    status: number = DEFAULT_STATUS[code],
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, description, status, headers);
    this.name = 'JoseError';
  }
}

/**
 * Remembers that a one-time value (an assertion's or a proof's `jti`) was used. Backed by the storage's
 * atomic `increment` or `consume`, so a replay is caught across every instance sharing the storage.
 */
export interface ReplayGuard {
  /**
   * Records `key` as used until `expiresAt` (epoch ms). Resolves `true` for the first caller and `false`
   * for every later one until the record expires, under any concurrency.
   */
  claimOnce(key: string, expiresAt: number): Promise<boolean>;
}

/** Options of a {@link FetchJwks} call. */
export interface FetchJwksOptions {
  /**
   * Ask for a fresh copy because a `kid` was not found in the cached one. The fetcher decides whether
   * a refetch is allowed now (it is rate-limited) and may return the cached set.
   */
  readonly refresh?: boolean;
}

/** Fetches a client's or an IdP's JSON Web Key Set from its `jwks_uri`; throws a {@link JoseError}. */
export type FetchJwks = (url: string, options?: FetchJwksOptions) => Promise<JSONWebKeySet>;

/** The fetch used for outbound requests (an egress proxy, or a test server). */
export type HttpFetch = (input: string, init: RequestInit) => Promise<Response>;

/** Authenticated encryption of small documents; the core's `KeyRing` provides it. */
export interface Sealer {
  /** Encrypts `plaintext`, binding `aad`. */
  seal(plaintext: string, aad: string): Promise<string>;
  /** Decrypts what {@link seal} produced with the same `aad`; `null` when it cannot be opened. */
  open(sealed: string, aad: string): Promise<string | null>;
  /** Whether a sealed value was sealed with the current key (not a previous one kept for rotation). */
  sealedWithCurrent?(sealed: string): Promise<boolean>;
}

/** A keyed MAC with rotation; the core's `KeyRing` provides it. */
export interface MacKey {
  /** The MAC of `data` with the current key, base64url. */
  mac(data: string): Promise<string>;
  /** Whether `mac` was made over `data` by any known key, compared in constant time. */
  verifyMac(data: string, mac: string): Promise<boolean>;
}

/**
 * Where the signing key set lives: one small sealed JSON document, and a single-use claim so that only
 * one instance writes each new revision of it. SQL (a row and an `INSERT … ON CONFLICT DO NOTHING`),
 * Redis (`SET NX`), a Durable Object and memory can all back it; `storageKeyStore` backs it with a
 * Portcullis `Storage`.
 */
export interface KeyStore extends ReplayGuard {
  /** Reads the sealed document, or `null` when none was written yet. */
  load(): Promise<string | null>;
  /** Replaces the sealed document. */
  save(document: string): Promise<void>;
}
