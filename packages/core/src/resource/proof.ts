import type { TokenInfo } from '../types.js';

/** A refusal of a resource-side proof check: the RFC 9449 §7.1 error and the headers to send. */
export interface ResourceProofRefusal {
  readonly ok: false;
  /**
   * `invalid_dpop_proof`, `use_dpop_nonce` (RFC 9449 §9), `invalid_token` (a key mismatch), or
   * `temporarily_unavailable` when the proof cannot be checked now (its replay store is down: 503).
   */
  readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'invalid_token' | 'temporarily_unavailable';
  readonly description: string;
  /** Headers the refusal carries besides the challenge (e.g. `DPoP-Nonce`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Checks the DPoP proof of a request at a protected resource (RFC 9449 §7.1), installed by an
 * extension on the server's own resource side or passed to a resource server. It is called for a
 * request in the `DPoP` scheme and for every DPoP-bound token (which `Bearer` cannot carry, §7.2).
 */
export interface ResourceProofCheck {
  /** The proof algorithms accepted, for the `algs` of the `DPoP` challenge (RFC 9449 §7.1). */
  readonly algorithms: readonly string[];
  /** Checks the proof of `request` for the verified token `info`; headers on success go in the response. */
  check(
    request: Request,
    info: TokenInfo,
    scheme: 'Bearer' | 'DPoP',
  ): Promise<
    { readonly ok: true; readonly headers?: Readonly<Record<string, string>> } | ResourceProofRefusal
  >;
}
