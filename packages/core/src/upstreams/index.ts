/**
 * Identity upstreams: who the user is during `/authorize`.
 * @module
 */
export { pinUpstream } from './pin.js';
export type { PinUpstreamOptions } from './pin.js';
