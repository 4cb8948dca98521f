import { BrowserBinding } from './authorize/browser.js';
import { CLIENT_AUTHENTICATION, type ClientAuthMethod } from './clients/authenticate.js';
import type { MetadataSupport } from './clients/metadata.js';
import { KeyRing } from './crypto/keys.js';
import { randomToken } from './crypto/random.js';
import type { Extension } from './extension.js';
import { invalidOptions, type ResolvedConfig } from './options.js';
import type { ResourceProofCheck } from './resource/proof.js';
import { RESPONSE_TYPES } from './rules/response-type.js';
import { ClientStore } from './stores/clients.js';
import { CodeStore } from './stores/codes.js';
import { ConsentStore } from './stores/consents.js';
import type { StoreContext } from './stores/context.js';
import { GrantStore } from './stores/grants.js';
import { PendingStore } from './stores/pending.js';
import { Records } from './stores/records.js';
import { TokenStore } from './stores/tokens.js';
import type { TokenProofCheck } from './token/binding.js';
import type { AccessTokenFormat } from './token/format.js';
import type { UpstreamTokenKeeper } from './upstream.js';

/** The one hook of its kind the extensions install, if any (two would contradict each other). */
function single<T>(extensions: readonly Extension[], hook: (e: Extension) => T | undefined): T | undefined {
  const found = extensions.map(hook).filter((value): value is T => value !== undefined);
  if (found.length > 1) throw invalidOptions('extensions: two extensions install the same token hook');
  return found[0];
}

/**
 * Everything an endpoint needs: validated config, keys, clock, randomness and the stores. The stores own
 * their caches; nothing here is mutable after construction.
 */
export class Core implements StoreContext {
  readonly config: ResolvedConfig;
  readonly records: Records;
  readonly keys: KeyRing;
  readonly clientMetadata: MetadataSupport;
  readonly clients: ClientStore;
  readonly grants: GrantStore;
  readonly tokens: TokenStore;
  /** Keeps the upstream IdP tokens of grants current, when the identity upstream brings the support. */
  readonly upstreamTokens: UpstreamTokenKeeper | undefined;
  readonly codes: CodeStore;
  readonly pending: PendingStore;
  readonly consents: ConsentStore;
  /** Binds authorization flows to the browser that started them. */
  readonly browser: BrowserBinding;
  /** The issuer URL's path without trailing slash (`''` at the origin root). */
  readonly basePath: string;
  /** The grant types the token endpoint offers (RFC 8414 `grant_types_supported`), from its registry. */
  readonly grantTypes: readonly string[];
  /** The access-token format of an extension (e.g. RFC 9068 JWTs); opaque tokens without one. */
  readonly accessTokenFormat: AccessTokenFormat | undefined;
  /** The proof-of-possession check of token requests (RFC 9449 §5), from an extension. */
  readonly tokenProof: TokenProofCheck | undefined;
  /** The proof-of-possession check at the own resources (RFC 9449 §7), from an extension. */
  readonly resourceProof: ResourceProofCheck | undefined;

  /** The client authentication methods of the token, revocation and introspection endpoints. */
  readonly clientAuthentication: readonly ClientAuthMethod[];

  constructor(
    config: ResolvedConfig,
    grantTypes: readonly string[],
    extensions: readonly Extension[] = [],
    clientAuthentication: readonly ClientAuthMethod[] = CLIENT_AUTHENTICATION,
  ) {
    this.grantTypes = grantTypes;
    this.clientAuthentication = clientAuthentication;
    this.config = config;
    this.records = new Records(this.config.storage, this.config.storageTimeoutMs, this.config.onStorageCall);
    this.keys = new KeyRing(this.config.secrets);
    this.basePath = this.config.issuerUrl.pathname.replace(/\/+$/, '');
    // Client metadata is narrowed to what the endpoints offer, derived from their registries.
    this.clientMetadata = {
      scopesSupported: this.config.scopesSupported,
      strictScopes: this.config.strictScopes,
      grantTypes,
      responseTypes: RESPONSE_TYPES,
      dpop: extensions.some((e) => e.tokenProof),
    };
    this.grants = new GrantStore(this);
    this.clients = new ClientStore(this, (clientId) => this.tokens.forgetClient(clientId));
    this.upstreamTokens = this.config.upstream.upstreamTokens?.(this);
    this.tokens = new TokenStore(this, this.grants, this.clients, this.upstreamTokens);
    this.codes = new CodeStore(this);
    this.pending = new PendingStore(this);
    this.consents = new ConsentStore(this);
    this.browser = new BrowserBinding(this);
    this.accessTokenFormat = single(extensions, (e) => e.accessTokenFormat?.(this));
    this.tokenProof = single(extensions, (e) => e.tokenProof?.(this));
    this.resourceProof = single(extensions, (e) => e.resourceProof?.(this));
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
}
