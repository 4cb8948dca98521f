/**
 * Fetches a client's (or an IdP's) JWK Set from its `jwks_uri` (RFC 7591 §2, OIDC Core §10.1) with the
 * rules the core applies to Client ID Metadata Documents: the same SSRF guard on the URL
 * (draft-ietf-oauth-client-id-metadata-document §8.6), no redirects and only HTTP 200 (§5), a size cap,
 * a timeout, and a bounded cache. A `kid` missing from the cached set may force one refetch per URL and
 * cooldown (OIDC Core §10.1.1: keys rotate by publishing new ones), and failures are remembered for the
 * cooldown so a slow or broken host cannot be made to cost a fetch per request.
 *
 * @module
 */

import { cacheLifetimeSeconds, fetchPublicJson, publicDocumentUrlProblem } from '../clients/guarded-fetch.js';
import { ExpiringLru } from '../crypto/lru.js';
import { parsePublicJwks } from './jwt.js';
import { type FetchJwks, type HttpFetch, JoseError, type JSONWebKeySet } from './types.js';

/** Options of {@link createJwksFetcher}. */
export interface JwksFetcherOptions {
  /** The fetch used (an egress proxy, a test server); default the global `fetch`. */
  readonly fetch?: HttpFetch;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
  /**
   * How long a fetched set is used at most, seconds; default 300. Within it, the response's
   * Cache-Control decides, as for Client ID Metadata Documents, but never under the cooldown.
   */
  readonly cacheSeconds?: number;
  /** Least time between two fetches of one URL (refetch on unknown `kid`, failures), seconds; default 30. */
  readonly cooldownSeconds?: number;
  /** Timeout of one fetch, headers and body, ms; default 5000 (as Client ID Metadata Documents). */
  readonly timeoutMs?: number;
  /** Largest body accepted, bytes; default 16 KiB (a few RSA keys with certificate chains). */
  readonly maxBytes?: number;
  /** Largest number of URLs cached; default 1000. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly jwks?: JSONWebKeySet;
  readonly failure?: JoseError;
  readonly fetchedAt: number;
}

const refuse = (reason: string) => new JoseError('invalid_client', `The key set at jwks_uri ${reason}.`);

/** Creates a {@link FetchJwks} with its own cache. Errors are `invalid_client` {@link JoseError}s. */
export function createJwksFetcher(options: JwksFetcherOptions = {}): FetchJwks {
  const doFetch: HttpFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const now = options.now ?? Date.now;
  const cacheMs = (options.cacheSeconds ?? 300) * 1000;
  const cooldownMs = (options.cooldownSeconds ?? 30) * 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 16 * 1024;
  const cache = new ExpiringLru<string, Entry>(options.maxEntries ?? 1000, now);
  const inFlight = new Map<string, Promise<JSONWebKeySet>>();

  /** The set at `url` and how long it may be used (ms). */
  async function download(url: string): Promise<{ jwks: JSONWebKeySet; lifetimeMs: number }> {
    const { body, headers } = await fetchPublicJson(
      doFetch,
      url,
      { maxBytes, timeoutMs },
      (reason) => refuse(reason.replace(/^the (document|URL) /, '')),
      'application/json, application/jwk-set+json',
    );
    const jwks = parsePublicJwks(body);
    if (typeof jwks === 'string') throw refuse(`is not usable: ${jwks}`);
    // Draft-ietf-oauth-client-id-metadata-document §5.2 cache rules, floored at the cooldown.
    const lifetimeMs = Math.max(cooldownMs, cacheLifetimeSeconds(headers, cacheMs / 1000) * 1000);
    return { jwks, lifetimeMs };
  }

  /** Fetches a set; a failed refresh keeps serving the `previous` set until it expires. */
  function load(url: string, previous?: JSONWebKeySet): Promise<JSONWebKeySet> {
    const pending = inFlight.get(url);
    if (pending) return pending;
    const started = now();
    const promise = download(url)
      .then(({ jwks, lifetimeMs }) => {
        cache.set(url, { jwks, fetchedAt: started }, started + lifetimeMs);
        return jwks;
      })
      .catch((error: unknown) => {
        if (previous) {
          cache.set(url, { jwks: previous, fetchedAt: started }, started + cooldownMs);
          return previous;
        }
        const failure = error instanceof JoseError ? error : refuse('could not be fetched');
        cache.set(url, { failure, fetchedAt: started }, started + cooldownMs);
        throw failure;
      })
      .finally(() => inFlight.delete(url));
    inFlight.set(url, promise);
    return promise;
  }

  return async (url, fetchOptions = {}) => {
    const problem = publicDocumentUrlProblem(url)?.replace(/^the URL/, 'the jwks_uri URL');
    if (problem) throw new JoseError('invalid_client', `The key set cannot be fetched: ${problem}.`);
    const entry = cache.get(url);
    if (entry?.failure) throw entry.failure;
    if (entry?.jwks) {
      const coolingDown = now() - entry.fetchedAt < cooldownMs;
      if (!fetchOptions.refresh || coolingDown) return entry.jwks;
      return load(url, entry.jwks);
    }
    return load(url);
  };
}
