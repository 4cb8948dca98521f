import * as z from 'zod/mini';
import { StorageUnavailableError } from './errors.js';
import type { ConsumeResult, RecordKind, Storage, StorageCallOptions } from './storage/types.js';

/** A registered client (RFC 7591 §2). Secrets and registration tokens are stored as SHA-256 hashes. */
export const clientRecord = z.object({
  clientId: z.string(),
  secretHash: z.optional(z.string()),
  registrationTokenHash: z.optional(z.string()),
  authMethod: z.enum(['none', 'client_secret_basic', 'client_secret_post']),
  redirectUris: z.array(z.string()),
  grantTypes: z.array(z.string()),
  responseTypes: z.array(z.string()),
  clientName: z.optional(z.string()),
  clientUri: z.optional(z.string()),
  logoUri: z.optional(z.string()),
  scope: z.optional(z.string()),
  contacts: z.optional(z.array(z.string())),
  tosUri: z.optional(z.string()),
  policyUri: z.optional(z.string()),
  softwareId: z.optional(z.string()),
  softwareVersion: z.optional(z.string()),
  issuedAt: z.number(),
});
export type ClientRecord = z.infer<typeof clientRecord>;

/** One authorization: user × client × scopes × resource. Tokens point at it; deleting it revokes them all. */
export const grantRecord = z.object({
  id: z.string(),
  clientId: z.string(),
  userId: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  /** Sealed {@link GrantSecrets}. */
  sealed: z.string(),
  createdAt: z.number(),
  /** Absolute end of the grant (epoch ms); tokens never outlive it. Grants are never rewritten. */
  expiresAt: z.number(),
});
export type GrantRecord = z.infer<typeof grantRecord>;

/** What a grant keeps encrypted: the identity details and the app's props. */
export interface GrantSecrets {
  email?: string;
  name?: string;
  props: Record<string, unknown>;
  upstreamToken?: Record<string, unknown>;
}

/** An authorization code (RFC 6749 §4.1.2) bound to client, redirect URI, PKCE challenge and grant. */
export const codeRecord = z.object({
  grantId: z.string(),
  clientId: z.string(),
  redirectUri: z.string(),
  codeChallenge: z.string(),
  /** Whether the authorization request named redirect_uri (then /token must repeat it, RFC 6749 §4.1.3). */
  redirectUriSent: z.optional(z.boolean()),
  expiresAt: z.number(),
});
export type CodeRecord = z.infer<typeof codeRecord>;

/** An access or refresh token record (the key is the token's hash). */
export const tokenRecord = z.object({
  grantId: z.string(),
  clientId: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  expiresAt: z.number(),
});
export type TokenRecord = z.infer<typeof tokenRecord>;

/** Remembered consent of one user for one client. */
export const consentRecord = z.object({
  scopes: z.array(z.string()),
  resources: z.array(z.string()),
  at: z.number(),
});
export type ConsentRecord = z.infer<typeof consentRecord>;

/** A validated authorization request waiting for login/consent. */
export const pendingRecord = z.object({
  clientId: z.string(),
  redirectUri: z.string(),
  state: z.optional(z.string()),
  redirectUriSent: z.optional(z.boolean()),
  codeChallenge: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  /** Hash of the browser-binding cookie value. */
  browserHash: z.string(),
  expiresAt: z.number(),
  /** Sealed upstream state (PKCE verifier, nonce…). */
  upstreamState: z.optional(z.string()),
  /** Sealed identity waiting for the consent page. */
  identity: z.optional(z.string()),
});
export type PendingRecord = z.infer<typeof pendingRecord>;

/**
 * Typed access to the storage: JSON in, schema-checked records out. Every storage failure becomes a
 * {@link StorageUnavailableError} (503 `temporarily_unavailable`), never a 500.
 */
export class Records {
  /** @param timeoutMs how long one storage operation may take before the request gives up with 503. */
  constructor(
    readonly storage: Storage,
    readonly timeoutMs = 8000,
  ) {}

  async #call<T>(operation: string, fn: (options: StorageCallOptions) => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const abandon = new AbortController();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // The storage is told to abandon the call for real, so a stuck connection is recycled.
        abandon.abort(new Error(`timed out after ${this.timeoutMs} ms`));
        reject(abandon.signal.reason);
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([fn({ signal: abandon.signal }), timeout]);
    } catch (error) {
      throw new StorageUnavailableError(operation, error);
    } finally {
      clearTimeout(timer);
    }
  }

  async get<T>(kind: RecordKind, key: string, schema: z.ZodMiniType<T>): Promise<T | null> {
    const stored = await this.#call(`get ${kind}`, (o) => this.storage.get(kind, key, o));
    return stored ? parse(schema, stored.value) : null;
  }

  async exists(kind: RecordKind, key: string): Promise<boolean> {
    return (await this.#call(`get ${kind}`, (o) => this.storage.get(kind, key, o))) !== null;
  }

  put(kind: RecordKind, key: string, value: unknown, expiresAt: number | null): Promise<void> {
    return this.#call(`put ${kind}`, (o) => this.storage.put(kind, key, JSON.stringify(value), expiresAt, o));
  }

  delete(kind: RecordKind, key: string): Promise<void> {
    return this.#call(`delete ${kind}`, (o) => this.storage.delete(kind, key, o));
  }

  async consume<T>(
    kind: RecordKind,
    key: string,
    now: number,
    schema: z.ZodMiniType<T>,
  ): Promise<{ status: 'consumed' | 'already_consumed'; record: T } | null> {
    const result: ConsumeResult = await this.#call(`consume ${kind}`, (o) =>
      this.storage.consume(kind, key, now, o),
    );
    if (result.status === 'missing') return null;
    const record = parse(schema, result.value);
    return record === null ? null : { status: result.status, record };
  }

  increment(kind: RecordKind, key: string, expiresAt: number): Promise<number> {
    return this.#call(`increment ${kind}`, (o) => this.storage.increment(kind, key, expiresAt, o));
  }
}

function parse<T>(schema: z.ZodMiniType<T>, value: string): T | null {
  try {
    const result = schema.safeParse(JSON.parse(value));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}
