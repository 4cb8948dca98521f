import { fetchClientDocument, isClientIdUrl } from '../clients/id-document.js';
import { sha256 } from '../crypto/hash.js';
import type { StoreContext } from './context.js';
import { type ClientRecord, clientRecord } from './schemas.js';

/**
 * Clients: registered ones (RFC 7591) by client_id, and Client ID Metadata Documents fetched when the
 * client_id is an https URL, cached in storage for `cacheSeconds`.
 */
export class ClientStore {
  readonly #ctx: StoreContext;
  readonly #onDelete: (clientId: string) => void;

  /** @param onDelete called after a client is deleted, so caches holding its tokens drop them. */
  constructor(ctx: StoreContext, onDelete: (clientId: string) => void) {
    this.#ctx = ctx;
    this.#onDelete = onDelete;
  }

  /**
   * The client behind a client_id: a registered client, or its metadata document. `null` for unknown
   * registered ids (or URL ids when documents are disabled); throws `invalid_client` when a document
   * cannot be used.
   */
  async load(clientId: string): Promise<ClientRecord | null> {
    if (!isClientIdUrl(clientId)) return this.registered(clientId);
    const ctx = this.#ctx;
    const settings = ctx.config.clientIdMetadataDocuments;
    if (!settings.enabled) return null;
    const cacheKey = `cimd:${await sha256(clientId)}`;
    const cached = await ctx.records.get('cache', cacheKey, clientRecord);
    if (cached) return cached;
    const { client, cacheSeconds } = await fetchClientDocument(ctx, clientId);
    // Draft §5.2: documents are cached as their HTTP cache headers allow, at most `cacheSeconds`.
    if (cacheSeconds > 0) await ctx.records.put('cache', cacheKey, client, ctx.now() + cacheSeconds * 1000);
    return client;
  }

  /** A registered client, or `null`. */
  registered(clientId: string): Promise<ClientRecord | null> {
    return this.#ctx.records.get('client', clientId, clientRecord);
  }

  /** Whether tokens of this client may still be used: registered clients must still exist. */
  async exists(clientId: string): Promise<boolean> {
    return isClientIdUrl(clientId) ? true : this.#ctx.records.exists('client', clientId);
  }

  /** Creates or replaces a registered client. */
  save(client: ClientRecord): Promise<void> {
    return this.#ctx.records.put('client', client.clientId, client, null);
  }

  /** Deletes a registered client (RFC 7592 §2.3): its tokens stop working at once. */
  async delete(clientId: string): Promise<void> {
    await this.#ctx.records.delete('client', clientId);
    this.#onDelete(clientId);
  }
}
