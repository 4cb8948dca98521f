import { randomBytes } from 'node:crypto';
import { it } from 'vitest';

/** A table prefix unique to this test run, so parallel runs on one database never collide. */
export function uniquePrefix(label = 't'): string {
  return `pt_${label}_${randomBytes(4).toString('hex')}_`;
}

/**
 * The URL of an external service, or `undefined` when it is not configured. When the environment
 * demands services (PORTCULLIS_REQUIRE_SERVICES=1) a missing URL becomes a failing test, never a skip.
 */
export function serviceUrl(variable: 'POSTGRES_URL' | 'MYSQL_URL'): string | undefined {
  const url = process.env[variable];
  if (!url && process.env.PORTCULLIS_REQUIRE_SERVICES === '1') {
    it(`${variable} is set (PORTCULLIS_REQUIRE_SERVICES=1)`, () => {
      throw new Error(`${variable} must be set when PORTCULLIS_REQUIRE_SERVICES=1`);
    });
  }
  return url || undefined;
}
