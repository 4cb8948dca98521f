import type { Core } from '../context.js';
import { OAuthError } from '../errors.js';

/** The groups of an IPv6 address (RFC 4291 §2.2), or `undefined` when it is not one. */
function ipv6Groups(address: string): string[] | undefined {
  // An embedded IPv4 tail (::ffff:1.2.3.4) fills the last two groups, which a /64 drops anyway.
  const text = address.replace(/\d{1,3}(\.\d{1,3}){3}$/, '0:0');
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => g.replace(/^0+(?=.)/, ''));
}

/**
 * What registrations are counted against: an IPv4 address, or the /64 of an IPv6 address (one
 * subscriber's network, RFC 6177 §3 — counting single IPv6 addresses would not limit anyone). IPv4
 * addresses are not grouped: a client backend (Claude.ai's egress range) or a NAT shares its /24.
 */
export function registrationSource(ip: string): string {
  const address = ip
    .trim()
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '')
    .toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const groups = ipv6Groups(address);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address;
}

/**
 * Limits new client records per source, when the adapter tells the client IP: a short burst window and
 * an hourly one (`registration.rateLimit`), so a busy client backend or a client that registers at every
 * login is not locked out, while a flood is. Answers 429 with `Retry-After` past a limit.
 */
export async function limitRegistrations(core: Core, request: Request): Promise<void> {
  const ip = core.config.clientIp(request);
  if (!ip) return;
  const source = registrationSource(ip);
  const now = core.now();
  for (const { seconds, max } of core.config.registration.limits) {
    const size = seconds * 1000;
    const window = Math.floor(now / size);
    const end = (window + 1) * size;
    const count = await core.records.increment('counter', `register:${seconds}:${source}:${window}`, end);
    if (count > max) {
      core.config.onEvent({ type: 'rate_limited', limit: 'registration' });
      throw new OAuthError(
        'invalid_request',
        'Too many client registrations from this network; try again later',
        429,
        { 'Retry-After': String(Math.ceil((end - now) / 1000)) },
      );
    }
  }
}
