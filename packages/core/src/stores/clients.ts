import { fetchClientDocument, isClientIdUrl } from '../clients/id-document.js';
import { sha256 } from '../crypto/hash.js';
import { StorageUnavailableError } from '../errors.js';
import * as v from '../validation/schema.js';
import type { StoreContext } from './context.js';
import { type ClientRecord, clientRecord } from './schemas.js';

/** How long a management change stays noted, so a concurrent last-use write cannot undo it. */
const CHANGE_NOTE_MS = 10 * 60_000;
const DAY_MS = 86_400_000;

/** A recent RFC 7592 change of a client: its new metadata, or its deletion. */
const changeNote = v.object({ deleted: v.boolean(), client: v.optional(clientRecord) });
type ChangeNote = v.Infer<typeof changeNote>;

/** The key of a client's change note: `#` never occurs in a client_id this server issues. */
const noteKey = (clientId: string) => `${clientId}#changed`;

/**
 * Clients: registered ones (RFC 7591) by client_id, and Client ID Metadata Documents fetched when the
 * client_id is an https URL, cached in storage for `cacheSeconds`. Registered clients expire when unused
 * for `registration.unusedClientLifetime`: each use pushes the expiry out, written at most once a day.
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
   * The client behind a client_id, for an authorization or token request (a use): a registered client,
   * or its metadata document. `null` for unknown registered ids (or URL ids when documents are
   * disabled); throws `invalid_client` when a document cannot be used.
   */
  async load(clientId: string): Promise<ClientRecord | null> {
    if (!isClientIdUrl(clientId)) {
      const client = await this.registered(clientId);
      if (client) await this.#noteUse(client);
      return client;
    }
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

  /** A registered client, or `null` (no use is recorded). */
  registered(clientId: string): Promise<ClientRecord | null> {
    return this.#ctx.records.get('client', clientId, clientRecord);
  }

  /** Whether tokens of this client may still be used: registered clients must still exist. */
  async exists(clientId: string): Promise<boolean> {
    return isClientIdUrl(clientId) ? true : this.#ctx.records.exists('client', clientId);
  }

  /** Stores a newly registered client. */
  save(client: ClientRecord): Promise<void> {
    return this.#ctx.records.put('client', client.clientId, client, this.#expiry(client));
  }

  /** Replaces a registered client's metadata (RFC 7592 §2.2). */
  async update(client: ClientRecord): Promise<void> {
    await this.#note(client.clientId, { deleted: false, client });
    await this.save(client);
  }

  /** Deletes a registered client (RFC 7592 §2.3): its tokens stop working at once. */
  async delete(clientId: string): Promise<void> {
    await this.#note(clientId, { deleted: true });
    await this.#ctx.records.delete('client', clientId);
    this.#onDelete(clientId);
  }

  /** When an unused client expires: its last use (or registration) plus the unused lifetime. */
  #expiry(client: ClientRecord): number | null {
    const unused = this.#ctx.config.registration.unusedClientMs;
    return unused === null ? null : (client.lastUsedAt ?? client.issuedAt) * 1000 + unused;
  }

  #note(clientId: string, note: ChangeNote): Promise<void> {
    const ctx = this.#ctx;
    return ctx.records.put('client', noteKey(clientId), note, ctx.now() + CHANGE_NOTE_MS);
  }

  /**
   * Records a use: rewrites the client with `lastUsedAt` (and so a later expiry) when the last write is
   * older than a day (a tenth of the lifetime, if shorter). A management change noted meanwhile wins: a
   * deleted client is never brought back, an update never undone. Storage failures are left to the next use.
   */
  async #noteUse(client: ClientRecord): Promise<void> {
    const ctx = this.#ctx;
    const unused = ctx.config.registration.unusedClientMs;
    const now = ctx.now();
    if (unused === null) return;
    if (now - (client.lastUsedAt ?? client.issuedAt) * 1000 < Math.min(DAY_MS, unused / 10)) return;
    const lastUsedAt = Math.floor(now / 1000);
    try {
      const key = noteKey(client.clientId);
      if (await ctx.records.get('client', key, changeNote)) return;
      await this.save({ ...client, lastUsedAt });
      const change = await ctx.records.get('client', key, changeNote);
      if (change?.deleted) await ctx.records.delete('client', client.clientId);
      else if (change?.client) await this.save({ ...change.client, lastUsedAt });
    } catch (error) {
      if (!(error instanceof StorageUnavailableError)) throw error;
    }
  }
}
