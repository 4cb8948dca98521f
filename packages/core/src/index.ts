/**
 * Portcullis core: a runtime-agnostic OAuth 2.1 authorization server for MCP servers.
 *
 * @example
 * ```ts
 * import { createAuthorizationServer, MemoryStorage } from '@portcullis/core';
 * import { pinUpstream } from '@portcullis/core/upstreams';
 *
 * const server = createAuthorizationServer({
 *   issuer: 'https://mcp.example.com',
 *   storage: new MemoryStorage(),
 *   upstream: pinUpstream({ pin: 'correct-horse' }),
 *   secret: 'a-secret-of-at-least-32-characters!!',
 * });
 * ```
 * @module
 */

export type { RandomSource } from './crypto/random.js';
export type { OAuthErrorCode } from './errors.js';
export { AuthorizationRedirectError, OAuthError, oauthErrorResponse } from './errors.js';
export type { Extension } from './extension.js';
export type {
  Gateway,
  GatewayOptions,
  GatewayServer,
  ProtectedRoute,
  SelfProtectedRoute,
  WaitUntil,
} from './gateway.js';
export { createGateway } from './gateway.js';
export { type HealthOptions, healthRoutes, storageReady } from './health.js';
export { withResourceCors } from './http/cors.js';
export type {
  ClientSummary,
  ConfigurationView,
  GrantFilter,
  GrantSummary,
  Management,
  PurgeResult,
  SecretStatus,
} from './management/index.js';
export { createManagement } from './management/index.js';
export { type AuditLevel, auditLevel, auditLine } from './observability/audit.js';
export {
  type EventCounters,
  type EventCountersOptions,
  eventCounters,
} from './observability/counters.js';
export {
  EVENT_METRICS,
  type EventMetric,
  type EventSample,
  eventSamples,
} from './observability/event-metrics.js';
export type { CoreOptions, ResourceOptions } from './options.js';
export { ConfigurationError } from './options.js';
export type { ChallengeOptions } from './resource/challenge.js';
export type {
  BearerChallenge,
  ClaimNames,
  CloudflareAccessVerifierOptions,
  IntrospectionVerifierOptions,
  JwtVerifierOptions,
  ResourceServer,
  ResourceServerOptions,
  TokenVerifier,
  VerificationResult,
  VerifiedAccessToken,
  VerifyContext,
} from './resource-server/index.js';
export {
  bearerErrorResponse,
  cloudflareAccessVerifier,
  createResourceServer,
  formatBearerChallenge,
  introspectionVerifier,
  jwtVerifier,
  protectedResourceMetadataUrl,
  readBearerToken,
} from './resource-server/index.js';
export { isLoopbackHost } from './rules/loopback.js';
export type {
  RedirectUriAllowList,
  RegistrationDecision,
  RegistrationPolicy,
  RegistrationRequest,
} from './rules/registration-policy.js';
export { redirectUriAllowList } from './rules/registration-policy.js';
export type { AuthorizationServer, AuthorizationServerOptions } from './server.js';
export { createAuthorizationServer } from './server.js';
export { listLimit, pageSorted } from './storage/list.js';
export type { ClockOption } from './storage/memory.js';
export { MemoryStorage } from './storage/memory.js';
export type {
  ConsumeResult,
  ListedRecord,
  ListOptions,
  ListPage,
  RecordKind,
  Storage,
  StorageCallOptions,
  StorageCapabilities,
  StoredRecord,
} from './storage/types.js';
export { RECORD_KINDS } from './storage/types.js';
export type { StorageObserver } from './stores/records.js';
export type * from './types.js';
export type {
  IdentityUpstream,
  UpstreamContext,
  UpstreamOutcome,
  UpstreamRefresh,
  UpstreamRoute,
  UpstreamTokenIdp,
  UpstreamTokenKeeper,
  UpstreamTokenSupport,
} from './upstream.js';
