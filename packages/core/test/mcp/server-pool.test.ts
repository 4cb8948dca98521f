import { describe, expect, it } from 'vitest';
import { MAX_IDLE_SERVERS, StatelessServers } from '../../src/mcp/server-pool.js';
import type { TokenInfo } from '../../src/types.js';

const info = (token: string, expiresAt = 2_000): TokenInfo => ({
  token,
  clientId: 'c',
  userId: token,
  scopes: ['mcp'],
  resource: 'https://rs.example/mcp',
  props: {},
  expiresAt,
});

describe('StatelessServers (the idle servers of protectMcpServer)', () => {
  it('gives a server back only to the token it was built for, and each to one taker', () => {
    const pool = new StatelessServers<object>(() => 0);
    const forAlice = {};
    expect(pool.take(info('alice'))).toBeUndefined();
    pool.release(info('alice'), forAlice);
    expect(pool.take(info('bob'))).toBeUndefined();
    expect(pool.take(info('alice'))).toBe(forAlice);
    expect(pool.take(info('alice'))).toBeUndefined();
    expect(pool.size).toBe(0);
  });

  it('keeps as many servers for one token as ran at once', () => {
    const pool = new StatelessServers<number>(() => 0);
    for (let i = 0; i < 40; i++) pool.release(info('burst'), i);
    const taken = Array.from({ length: 40 }, () => pool.take(info('burst')));
    expect(new Set(taken).size).toBe(40);
    expect(pool.take(info('burst'))).toBeUndefined();
  });

  it('drops the servers of a token once it expires', () => {
    let now = 0;
    const pool = new StatelessServers<object>(() => now);
    pool.release(info('short', 10), {});
    pool.release(info('short', 10), {});
    now = 10_000;
    expect(pool.take(info('short', 10))).toBeUndefined();
    expect(pool.size).toBe(0);
  });

  it('stays within its bound, dropping first the servers of the token that gave one back the longest ago', () => {
    const pool = new StatelessServers<string>(() => 0);
    pool.release(info('old'), 'old-server');
    for (let i = 0; i < MAX_IDLE_SERVERS; i++) pool.release(info(`t${i}`), `s${i}`);
    expect(pool.size).toBe(MAX_IDLE_SERVERS);
    expect(pool.take(info('old'))).toBeUndefined();
    expect(pool.take(info('t0'))).toBe('s0');
    expect(pool.take(info(`t${MAX_IDLE_SERVERS - 1}`))).toBe(`s${MAX_IDLE_SERVERS - 1}`);
    expect(pool.size).toBe(MAX_IDLE_SERVERS - 2);
  });
});
