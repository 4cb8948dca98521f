import type { Authenticator } from '@portcullis/core';

/**
 * An {@link Authenticator} that forwards to one created later (test servers learn their port, and so
 * their issuer, only after they listen).
 */
export function lazyAuthenticator(get: () => Authenticator): Authenticator {
  return {
    authenticate: (request, options) => get().authenticate(request, options),
    protectedResourceMetadata: (request) => get().protectedResourceMetadata(request),
    challenge: (request, options) => get().challenge(request, options),
  };
}
