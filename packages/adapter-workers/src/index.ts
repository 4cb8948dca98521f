/**
 * Mount Portcullis on Cloudflare Workers: one call returns the Worker's module handler.
 *
 * @example
 * ```ts
 * import { portcullis } from '@portcullis/adapter-workers';
 * import { cloudflareStorage, PortcullisCoordinator } from '@portcullis/storage-kv';
 * import { pinUpstream } from '@portcullis/core/upstreams';
 * export { PortcullisCoordinator };
 * export default portcullis((env: Env) => ({
 *   storage: cloudflareStorage({ kv: env.OAUTH_KV, coordinator: env.PORTCULLIS }),
 *   upstream: pinUpstream({ pin: env.AUTH_PIN }),
 *   secret: env.PORTCULLIS_SECRET,
 *   apiHandler: (request, { info }) => Response.json({ user: info.userId }),
 * }));
 * ```
 * @module
 */
export { portcullis } from './handler.js';
export { RequestAuthenticator } from './memo.js';
export { perIssuer } from './per-issuer.js';
export type {
  ApiContext,
  ApiHandler,
  DefaultHandler,
  ExecutionContextLike,
  PortcullisWorkerConfig,
  PortcullisWorkerConfigSource,
  WorkerHandler,
} from './types.js';
