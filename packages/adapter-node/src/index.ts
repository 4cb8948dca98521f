/**
 * Mount Portcullis on Node: `node:http`, Express and Fastify, with streaming in both directions.
 * @module
 */
export {
  type ExpressMiddleware,
  type ExpressMountOptions,
  portcullisExpress,
  reserializeParsedBody,
} from './express.js';
export {
  type FastifyInstanceLike,
  type FastifyMountOptions,
  type FastifyPluginLike,
  portcullisFastify,
} from './fastify.js';
export {
  clientIp,
  type FetchHandler,
  type HandleNodeRequestOptions,
  handleNodeRequest,
  jsonError,
  type NodeAdapterOptions,
  type OptionalFetchHandler,
  toNodeListener,
} from './http.js';
export {
  type McpMount,
  type MountOptions,
  portcullisHandler,
  portcullisRoutes,
  type RoutableServer,
} from './mount.js';
export { NodeRequest, type NodeRequestOptions, READ_BOUNDED } from './node-request.js';
export { NodeResponse, useNodeResponse } from './node-response.js';
export {
  BadRequestError,
  BodyTooLargeError,
  DEFAULT_BODY_LIMIT,
  nodeBodyStream,
  type OriginOptions,
  requestClientIp,
  requestOrigin,
  type ToWebRequestOptions,
  toWebHeaders,
  toWebRequest,
  UnsupportedMethodError,
} from './request.js';
export { type SendResponseOptions, sendWebResponse, writeResponseHead } from './response.js';
export {
  gracefulShutdown,
  type RunningServer,
  type ServeOptions,
  type ShutdownOptions,
  serve,
} from './serve.js';
export {
  type NodeUpstreamOptions,
  nodeUpstreamFetch,
  type UpstreamFetch,
  useNodeUpstream,
} from './upstream.js';
