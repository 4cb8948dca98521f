import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../src/rules/loopback.js';
import { redirectUriProblem } from '../../src/rules/redirect-uri.js';

/** One definition of "loopback" serves the issuer, upstream URLs and redirect URIs alike. */
describe('loopback hosts', () => {
  it.each(['localhost', 'LOCALHOST', '127.0.0.1', '127.0.0.2', '127.255.255.254', '[::1]'])(
    '%s is loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(true);
    },
  );

  it.each([
    'foo.localhost',
    'localhost.example.com',
    '127.0.0.1.nip.io',
    '128.0.0.1',
    '127.0.0',
    '127.0.0.256',
    '127.0.0.01',
    '[::2]',
    '0.0.0.0',
    '',
  ])('%s is not loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it('applies the same answer to http redirect URIs (RFC 8252 §7.3)', () => {
    expect(redirectUriProblem('http://127.0.0.2:5000/callback')).toBeUndefined();
    expect(redirectUriProblem('http://app.localhost/callback')).toContain('loopback');
  });
});
