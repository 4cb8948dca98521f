import { base64url, utf8 } from './encoding.js';

interface NodeCrypto {
  /** One-shot digest (Node ≥ 20.12), cheaper than a Hash object. */
  hash?(algorithm: 'sha256', data: string, encoding: 'base64url'): string;
  createHash(algorithm: 'sha256'): {
    update(data: string, encoding: 'utf8'): { digest(encoding: 'base64url'): string };
  };
}

/**
 * A synchronous SHA-256 where the runtime offers one (Node ≥ 20.16 `process.getBuiltinModule`), found by
 * feature detection rather than an import so the core stays runtime-agnostic. Same output as WebCrypto.
 */
const nodeCrypto = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const mod = proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
    return typeof mod?.createHash === 'function' ? mod : undefined;
  } catch {
    return undefined;
  }
})();

const oneShot = typeof nodeCrypto?.hash === 'function' ? nodeCrypto.hash.bind(nodeCrypto) : undefined;

/**
 * {@link sha256} at once where the runtime hashes synchronously, else `undefined` (then await
 * `sha256`): hot paths skip a promise per hash.
 */
export function sha256Now(text: string): string | undefined {
  if (!nodeCrypto) return undefined;
  return oneShot
    ? oneShot('sha256', text, 'base64url')
    : nodeCrypto.createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** SHA-256 of a string, base64url. Used as the at-rest key of tokens, codes and secrets. */
export async function sha256(text: string): Promise<string> {
  return sha256Now(text) ?? base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text))));
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
