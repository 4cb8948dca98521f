import type { Storage } from '@portcullis/core';
import { type SigningKeys, signingKeys } from '@portcullis/core/extensions';

/**
 * The gateway's signing keys (for identity assertions, published at its JWKS): sealed in its storage
 * with its secret and shared by every instance; `portcullis admin rotate-signing-keys` uses the same.
 */
export function gatewaySigningKeys(storage: Storage, secrets: readonly string[]): SigningKeys {
  // Identity assertions live under a minute: a retired key is dropped soon after it stops signing.
  return signingKeys({ storage, secret: [...secrets], maxTokenLifetimeSeconds: 60 });
}
