import type { ResolvedConfig } from '../../options.js';
import { authorizationCodeGrant } from './authorization-code.js';
import { refreshTokenGrant } from './refresh-token.js';
import type { GrantType } from './types.js';

/** Every grant type the token endpoint knows, in the order metadata lists them. */
export const GRANT_TYPES: readonly GrantType[] = [authorizationCodeGrant, refreshTokenGrant];

/** The grant types this configuration offers. */
export const enabledGrantTypes = (config: ResolvedConfig): readonly GrantType[] =>
  GRANT_TYPES.filter((grant) => grant.enabled(config));
