/**
 * The JOSE building blocks wired to one authorization server: single-use claims through its storage
 * (with its timeouts), and JWK Sets fetched like Client ID Metadata Documents (its egress `fetch`, the
 * SSRF guard, size cap, timeout and cache of `clients/guarded-fetch.ts`).
 *
 * @module
 */
import type { Core } from '../context.js';
import { createJwksFetcher } from './jwks-fetch.js';
import { storageReplayGuard } from './storage-adapters.js';
import type { FetchJwks, HttpFetch, ReplayGuard } from './types.js';

/** One value per server, made on first use (an extension is created before the server it joins). */
export function perCore<T>(make: (core: Core) => T): (core: Core) => T {
  const made = new WeakMap<Core, T>();
  return (core) => {
    let value = made.get(core);
    if (value === undefined) {
      value = make(core);
      made.set(core, value);
    }
    return value;
  };
}

/** Single-use claims over the server's storage: atomic across every instance that shares it. */
export const coreReplayGuard = (core: Core): ReplayGuard => storageReplayGuard(core.records);

/** A JWK Set fetcher with the server's document-fetch rules; `fetch` overrides its egress fetch. */
export function coreJwksFetcher(core: Core, fetch?: HttpFetch): FetchJwks {
  const documents = core.config.clientIdMetadataDocuments;
  return createJwksFetcher({
    fetch: fetch ?? documents.fetch,
    now: () => core.now(),
    cacheSeconds: documents.cacheSeconds,
  });
}
