import { expect, it } from 'vitest';
import { importPeer, lockKey, toNumber } from '../src/driver.js';

it('names the package to install when an optional peer is missing', async () => {
  await expect(importPeer('portcullis-no-such-peer/promise')).rejects.toThrow(
    '@portcullis/storage-sql needs the optional peer dependency "portcullis-no-such-peer/promise": npm install portcullis-no-such-peer',
  );
});

it('reads integers however drivers return them, and refuses anything else', () => {
  expect(toNumber(null)).toBeNull();
  expect(toNumber(1893456000000)).toBe(1893456000000);
  expect(toNumber('1893456000000')).toBe(1893456000000);
  expect(toNumber(1893456000000n)).toBe(1893456000000);
  expect(() => toNumber('12abc')).toThrow(TypeError);
  expect(() => toNumber({})).toThrow(TypeError);
});

it('derives stable, distinct 32-bit advisory lock keys', () => {
  const a = lockKey('portcullis:portcullis_migrations');
  expect(lockKey('portcullis:portcullis_migrations')).toBe(a);
  expect(lockKey('portcullis:other_migrations')).not.toBe(a);
  expect(a).toBe(a | 0);
});
