import { sha256 } from './crypto/hash.js';
import { KeyRing } from './crypto/keys.js';
import { ExpiringLru } from './crypto/lru.js';
import { randomToken, webRandom } from './crypto/random.js';
import type { AuthorizationServerOptions, ResolvedConfig } from './options.js';
import { resolveConfig } from './options.js';
import type { GrantRecord, GrantSecrets, TokenRecord } from './records.js';
import { Records } from './records.js';

/** A verified access token as the token cache keeps it. */
export interface VerifiedToken {
  readonly record: TokenRecord;
  readonly grant: GrantRecord;
  readonly secrets: GrantSecrets;
}

/** Token prefixes: make leaked tokens recognisable by secret scanners. */
export const PREFIX = {
  access: 'pcat_',
  refresh: 'pcrt_',
  code: 'pcac_',
  secret: 'pcs_',
  registration: 'pcrg_',
} as const;

/** Name of the cookie binding an authorization flow to the browser that started it. */
export const flowCookieName = (secure: boolean) => (secure ? '__Host-portcullis-flow' : 'portcullis-flow');

/** Everything an endpoint needs: validated config, typed storage, keys, clock and randomness. */
export class Core {
  readonly config: ResolvedConfig;
  readonly records: Records;
  readonly keys: KeyRing;
  /** The issuer URL's path without trailing slash (`''` at the origin root). */
  readonly basePath: string;
  readonly secureCookies: boolean;
  /** Opened grant secrets by grant id: grants are immutable, so this cannot go stale. */
  readonly openedGrants: ExpiringLru<string, { sealed: string; secrets: GrantSecrets }>;
  /** Verified access tokens by token hash, when `tokenCache` is configured. */
  readonly tokenCache: ExpiringLru<string, VerifiedToken> | undefined;

  constructor(options: AuthorizationServerOptions) {
    this.config = resolveConfig(options, { random: webRandom });
    this.records = new Records(this.config.storage, this.config.storageTimeoutMs);
    this.keys = new KeyRing(this.config.secrets);
    this.basePath = this.config.issuerUrl.pathname.replace(/\/+$/, '');
    this.secureCookies = this.config.issuerUrl.protocol === 'https:';
    const now = () => this.now();
    this.openedGrants = new ExpiringLru(1000, now);
    const cache = this.config.tokenCache;
    this.tokenCache = cache ? new ExpiringLru(cache.maxEntries, now) : undefined;
  }

  /** Epoch milliseconds. */
  now(): number {
    return this.config.now();
  }

  /** Epoch seconds. */
  seconds(): number {
    return Math.floor(this.config.now() / 1000);
  }

  token(prefix = '', bytes = 32): string {
    return randomToken(this.config.random, prefix, bytes);
  }

  /** Absolute URL of an endpoint under the issuer. */
  endpoint(path: string): string {
    return `${this.config.issuer}${path}`;
  }

  /** The at-rest key of a secret value (token, code, client secret). */
  hash(value: string): Promise<string> {
    return sha256(value);
  }

  get flowCookie(): string {
    return flowCookieName(this.secureCookies);
  }
}
