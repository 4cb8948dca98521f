/**
 * Loopback hosts, defined once for the whole project: `localhost`, any IPv4 address in 127.0.0.0/8
 * (RFC 1122 §3.2.1.3) and `[::1]` (RFC 4291 §2.5.3). Plain http is allowed on them only (issuer, upstream
 * URLs, redirect URIs per RFC 8252 §7.3). Names under `.localhost` are not included: RFC 6761 §6.3 lets
 * resolvers answer them, but not every resolver does, so they are not trusted to stay on this machine.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  const parts = host.split('.');
  return (
    parts.length === 4 &&
    parts[0] === '127' &&
    parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && (p === '0' || !p.startsWith('0')))
  );
}

/** True for an `http:` URL on a loopback host (local development and tests). */
export const isLoopbackHttp = (url: URL): boolean => url.protocol === 'http:' && isLoopbackHost(url.hostname);

/** True for an `https:` URL, or an `http:` one on a loopback host. */
export const isSecureOrLoopback = (url: URL): boolean => url.protocol === 'https:' || isLoopbackHttp(url);
