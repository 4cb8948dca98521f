import { isConfidentialMethod } from '../../clients/auth-methods.js';
import { OAuthError } from '../../errors.js';
import { clientScopePolicy, grantScopes, parseScope } from '../../rules/scope.js';
import type { ClientRecord } from '../../stores/schemas.js';
import { issueTokenResponse } from '../issue.js';
import { requestedResource, scopesOrRefuse } from '../params.js';
import type { GrantType } from './types.js';

/** The client a client-credentials policy decides on. */
export interface MachineClient {
  readonly clientId: string;
  readonly clientName?: string;
  readonly softwareId?: string;
}

/** Options of `clientCredentials()`: which clients may get tokens without a user (one is required). */
export interface ClientCredentialsOptions {
  /** The client_ids allowed (registered clients, or Client ID Metadata Document URLs). */
  readonly clients?: readonly string[];
  /** Decides for a client not in `clients`. */
  readonly allow?: (client: MachineClient) => boolean | Promise<boolean>;
}

/**
 * The client credentials grant (RFC 6749 §4.4, OAuth 2.1 §4.2; the MCP OAuth Client Credentials
 * extension, SEP-1046): a confidential client gets a token for itself, with no user (`sub` is the
 * client_id, as RFC 9068 §2.2 puts it) and no refresh token (RFC 6749 §4.4.3). Scope and `resource`
 * follow the rules of the authorization endpoint. Replay rule: none needed, the client authenticates
 * every time (and a `private_key_jwt` assertion is single-use). Only the clients the options allow
 * may use it: open registration and Client ID Metadata Documents let anyone create a confidential client.
 */
export function clientCredentialsGrant(options: ClientCredentialsOptions): GrantType {
  if (!options.clients && !options.allow)
    throw new TypeError('clientCredentials: give the allowed clients (clients) or an allow function');
  const allowed = async (client: ClientRecord) =>
    options.clients?.includes(client.clientId) ||
    ((await options.allow?.({
      clientId: client.clientId,
      ...(client.clientName !== undefined ? { clientName: client.clientName } : {}),
      ...(client.softwareId !== undefined ? { softwareId: client.softwareId } : {}),
    })) ??
      false);
  return {
    name: 'client_credentials',
    enabled: () => true,
    async handle({ core, form, client, authMethod, binding }) {
      // RFC 6749 §4.4: only a confidential client may use this grant.
      if (!isConfidentialMethod(authMethod))
        throw new OAuthError(
          'unauthorized_client',
          'The client_credentials grant needs client authentication (client_secret_basic, client_secret_post or private_key_jwt)',
        );
      if (!(await allowed(client)))
        throw new OAuthError('unauthorized_client', 'This client may not use the client_credentials grant');
      const resource = requestedResource(core, form.get('resource'));
      const policy = clientScopePolicy(core.config, client.scope, resource.scopes);
      const scopes = scopesOrRefuse(grantScopes(parseScope(form.get('scope')), policy));
      const { access } = core.config.lifetimes;
      const grant = await core.grants.create({
        clientId: client.clientId,
        userId: client.clientId,
        scopes,
        resource: resource.resource,
        secrets: { props: {} },
        lifetimeSeconds: access,
      });
      return issueTokenResponse(core, grant, scopes, false, 'client_credentials', undefined, {
        binding,
      });
    },
  };
}
