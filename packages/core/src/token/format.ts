import type { TokenRecord } from '../stores/schemas.js';

/**
 * A format of access tokens other than the default opaque one (e.g. RFC 9068 JWTs), installed by an
 * extension. The token store still records every access token under the SHA-256 of its `handle`, so
 * revocation, introspection and the server's own resource side work the same for every format.
 */
export interface AccessTokenFormat {
  /** Whether access tokens for this resource identifier are issued in this format. */
  appliesTo(resource: string): boolean;
  /** Lifetime of access tokens in this format, seconds (caps the server's access-token lifetime). */
  readonly lifetimeSeconds: number;
  /**
   * The token the client receives for a stored record: `handle` is the token's at-rest identifier
   * (carried in it, e.g. as `jti`), `subject` the grant's user.
   */
  encode(token: {
    readonly handle: string;
    readonly record: TokenRecord;
    readonly subject: string;
  }): Promise<string>;
  /**
   * The handle of a presented token when it is one of this format that verifies; `undefined` when the
   * token is not in this format at all, `null` when it is but does not verify.
   */
  decode(token: string): Promise<string | null | undefined>;
}
