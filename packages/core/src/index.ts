/**
 * Portcullis core: a runtime-agnostic OAuth 2.1 authorization server for MCP servers.
 * @module
 */
export { MemoryStorage } from './storage/memory.js';
export type { ClockOption } from './storage/memory.js';
export { RECORD_KINDS } from './storage/types.js';
export type { ConsumeResult, RecordKind, Storage, StorageCapabilities, StoredRecord } from './storage/types.js';
export type { IdentityUpstream, UpstreamContext, UpstreamOutcome, UpstreamRoute } from './upstream.js';
export type * from './types.js';
