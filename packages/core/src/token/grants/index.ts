import { authorizationCodeGrant } from './authorization-code.js';
import { refreshTokenGrant } from './refresh-token.js';
import type { GrantType } from './types.js';

/**
 * The built-in grant types of the token endpoint, in the order metadata lists them. Optional ones
 * (token exchange, jwt-bearer, client credentials) come from extensions and follow these.
 */
export const GRANT_TYPES: readonly GrantType[] = [authorizationCodeGrant, refreshTokenGrant];
