import type { IdentityUpstream } from '@portcullis/core';
import { oidcUpstream } from '@portcullis/core/upstreams';
import { ConfigError, type GatewayConfig } from './config.js';

/**
 * The OpenID Connect identity upstream the configuration describes (`OIDC_ISSUER`, client id and
 * secret, scopes, and the `ALLOWED_DOMAINS` / `ALLOWED_EMAILS` / `ALLOWED_CLAIMS` allow-lists or
 * `ALLOW_ANYONE`). The provider's redirect URI to register is `<issuer>/callback`.
 * @throws ConfigError when the provider settings are refused (e.g. an http issuer off loopback).
 */
export function oidcIdentity(config: GatewayConfig): IdentityUpstream {
  if (!config.oidcIssuer || !config.oidcClientId || !config.oidcClientSecret) {
    throw new ConfigError(
      'invalid configuration: OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required',
    );
  }
  try {
    return oidcUpstream({
      issuer: config.oidcIssuer,
      clientId: config.oidcClientId,
      clientSecret: config.oidcClientSecret,
      scopes: config.oidcScopes,
      allowedDomains: config.allowedDomains,
      allowedEmails: config.allowedEmails,
      allowedClaims: config.allowedClaims,
      allowAnyone: config.allowAnyone,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'refused';
    throw new ConfigError(`invalid configuration: OIDC_ISSUER (oidcIssuer): ${reason}`);
  }
}
