import type { Props, TokenInfo } from '../types.js';

/** What tools find in `extra.authInfo.extra` when served through Portcullis. */
export interface PortcullisAuthExtra {
  readonly userId: string;
  readonly email?: string;
  readonly name?: string;
  readonly props: Props;
  readonly resource: string;
  [key: string]: unknown;
}

/** The MCP SDK's `AuthInfo` shape (structurally identical to the SDK type, so no SDK import is needed). */
export interface McpAuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  resource?: URL;
  extra?: Record<string, unknown>;
}

/**
 * Converts Portcullis token info to the SDK's `AuthInfo`: `token`, `clientId`, `scopes`, `expiresAt`,
 * `resource`, and `extra: { userId, email, name, props, resource }`.
 */
export function toAuthInfo(info: TokenInfo): McpAuthInfo & { extra: PortcullisAuthExtra } {
  let resource: URL | undefined;
  try {
    resource = new URL(info.resource);
  } catch {
    resource = undefined;
  }
  return {
    token: info.token,
    clientId: info.clientId,
    scopes: [...info.scopes],
    expiresAt: info.expiresAt,
    ...(resource ? { resource } : {}),
    extra: {
      userId: info.userId,
      ...(info.email !== undefined ? { email: info.email } : {}),
      ...(info.name !== undefined ? { name: info.name } : {}),
      props: info.props,
      resource: info.resource,
    },
  };
}
