/**
 * Server-provided DPoP nonces (RFC 9449 §8 at the authorization server, §9 at a resource server),
 * stateless: a nonce is the MAC of the current time window under the server key, so every instance
 * issues and accepts the same values without storage. A nonce is accepted during its window and the
 * next one, so a client always has at least one full window to use the nonce it was given (§8.2: the
 * server may send a fresh one on any response).
 *
 * @module
 */
import type { MacKey } from './types.js';

/** Options of {@link createDpopNonces}. */
export interface DpopNonceOptions {
  /** The server MAC key (the core's `KeyRing`). */
  readonly key: MacKey;
  /** Length of a window, seconds; default 300. */
  readonly windowSeconds?: number;
  /** Separates the nonces of different issuers of nonces (the AS, each resource); default `as`. */
  readonly scope?: string;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

/** How a nonce compares with the server's. */
export type NonceCheck = 'current' | 'previous' | 'invalid';

/** The nonces of one server. */
export interface DpopNonces {
  /** The nonce to send now as the `DPoP-Nonce` header value (RFC 9449 §8.1: `1*NQCHAR`). */
  current(): Promise<string>;
  /** Whether a nonce from a proof is this window's, the previous window's, or not one of ours. */
  check(nonce: string): Promise<NonceCheck>;
  /** How long a nonce stays valid at most, seconds (two windows). */
  readonly lifetimeSeconds: number;
}

/** Creates the stateless rotating nonces of RFC 9449 §8 / §9. */
export function createDpopNonces(options: DpopNonceOptions): DpopNonces {
  const windowMs = (options.windowSeconds ?? 300) * 1000;
  const now = options.now ?? Date.now;
  const scope = options.scope ?? 'as';
  const input = (window: number) => `portcullis/dpop-nonce/v1\n${scope}\n${window}`;
  const window = () => Math.floor(now() / windowMs);
  return {
    lifetimeSeconds: (2 * windowMs) / 1000,
    current: () => options.key.mac(input(window())),
    async check(nonce) {
      if (!/^[A-Za-z0-9_-]{16,128}$/.test(nonce)) return 'invalid';
      const w = window();
      if (await options.key.verifyMac(input(w), nonce)) return 'current';
      if (await options.key.verifyMac(input(w - 1), nonce)) return 'previous';
      return 'invalid';
    },
  };
}
