import { sha256 } from '../crypto/hash.js';
import { PREFIX, type StoreContext } from './context.js';
import type { Consumed } from './records.js';
import { type CodeRecord, codeRecord } from './schemas.js';

/** Authorization codes (RFC 6749 §4.1.2): short-lived, single use, stored under their hash. */
export class CodeStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Issues a code for a grant, bound to the client, redirect URI and PKCE challenge. */
  async create(fields: Omit<CodeRecord, 'expiresAt' | 'salt'>): Promise<string> {
    const ctx = this.#ctx;
    const code = ctx.token(PREFIX.code);
    const expiresAt = ctx.now() + ctx.config.lifetimes.code * 1000;
    const record: CodeRecord = { ...fields, expiresAt, salt: ctx.token('', 16) };
    await ctx.records.put('code', await sha256(code), record, expiresAt);
    return code;
  }

  /**
   * Consumes a code once: exactly one caller gets `consumed`; a replay gets `already_consumed` with the
   * time of the first use.
   */
  async consume(code: string): Promise<Consumed<CodeRecord> | null> {
    return this.#ctx.records.consume('code', await sha256(code), this.#ctx.now(), codeRecord);
  }

  /**
   * Marks a consumed code whose redemption was refused: within the reuse interval no later attempt may
   * pass for a retry of it (a failed PKCE check burns the code for good). Best effort.
   */
  async refuseRetries(code: string): Promise<void> {
    const ctx = this.#ctx;
    const { reuseIntervalMs, storageTimeoutMs } = ctx.config;
    if (reuseIntervalMs === 0) return;
    const expiresAt = ctx.now() + reuseIntervalMs + 2 * storageTimeoutMs;
    await ctx.records.increment('counter', await refusedKey(code), expiresAt).catch(() => undefined);
  }

  /** Whether a redemption of this code was refused after it was consumed (see {@link refuseRetries}). */
  async retriesRefused(code: string): Promise<boolean> {
    return this.#ctx.records.exists('counter', await refusedKey(code));
  }
}

const refusedKey = async (code: string) => `code-refused:${await sha256(code)}`;
