import type { MetadataSupport } from '../clients/metadata.js';
import type { KeyRing } from '../crypto/keys.js';
import type { ResolvedConfig } from '../options.js';
import type { AccessTokenFormat } from '../token/format.js';
import type { Records } from './records.js';

/** What the stores need from the server: configuration, typed storage, keys, clock and randomness. */
export interface StoreContext {
  readonly config: ResolvedConfig;
  readonly records: Records;
  readonly keys: KeyRing;
  /** What client metadata is narrowed to (registration and Client ID Metadata Documents). */
  readonly clientMetadata: MetadataSupport;
  /** The access-token format of an extension; opaque tokens without one. */
  readonly accessTokenFormat?: AccessTokenFormat | undefined;
  /** Epoch milliseconds. */
  now(): number;
  /** A fresh unguessable token: `prefix` + base64url of `bytes` random bytes. */
  token(prefix?: string, bytes?: number): string;
}

/** Token prefixes: make leaked credentials recognisable by secret scanners. */
export const PREFIX = {
  access: 'pcat_',
  refresh: 'pcrt_',
  code: 'pcac_',
  secret: 'pcs_',
  registration: 'pcrg_',
} as const;
