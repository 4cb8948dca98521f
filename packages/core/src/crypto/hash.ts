import { base64url, utf8 } from './encoding.js';

/** SHA-256 of a string, base64url. Used as the at-rest key of tokens, codes and secrets. */
export async function sha256(text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text))));
}

/**
 * Compares two strings in time independent of where they differ. Both sides are hashed first so
 * lengths leak nothing either.
 */
export async function timingSafeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([sha256(a), sha256(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x.charCodeAt(i) ^ y.charCodeAt(i);
  return diff === 0;
}
