/**
 * Test helpers for Portcullis integrations: the storage contract suite every storage must pass.
 *
 * @example
 * ```ts
 * import { storageContract } from '@portcullis/core/testkit';
 * import { MemoryStorage } from '@portcullis/core';
 * storageContract('memory', { create: (clock) => new MemoryStorage({ now: clock.now }) });
 * ```
 * @module
 */

export type { StorageContractOptions, TestClock } from './storage-contract.js';
export { storageContract } from './storage-contract.js';
