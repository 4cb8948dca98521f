import { base64url } from './encoding.js';

/** Fills a buffer with random bytes. Injectable for tests; defaults to WebCrypto. */
export type RandomSource = (bytes: number) => Uint8Array;

export const webRandom: RandomSource = (bytes) => crypto.getRandomValues(new Uint8Array(bytes));

/** An unguessable token: `prefix` + base64url of `bytes` random bytes (256 bits by default). */
export const randomToken = (random: RandomSource, prefix = '', bytes = 32): string =>
  prefix + base64url(random(bytes));
