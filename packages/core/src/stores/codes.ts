import { sha256 } from '../crypto/hash.js';
import { PREFIX, type StoreContext } from './context.js';
import { type CodeRecord, codeRecord } from './schemas.js';

/** Authorization codes (RFC 6749 §4.1.2): short-lived, single use, stored under their hash. */
export class CodeStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Issues a code for a grant, bound to the client, redirect URI and PKCE challenge. */
  async create(fields: Omit<CodeRecord, 'expiresAt'>): Promise<string> {
    const ctx = this.#ctx;
    const code = ctx.token(PREFIX.code);
    const expiresAt = ctx.now() + ctx.config.lifetimes.code * 1000;
    await ctx.records.put('code', await sha256(code), { ...fields, expiresAt }, expiresAt);
    return code;
  }

  /** Consumes a code once: exactly one caller gets `consumed`; a replay gets `already_consumed`. */
  async consume(code: string) {
    return this.#ctx.records.consume('code', await sha256(code), this.#ctx.now(), codeRecord);
  }
}
