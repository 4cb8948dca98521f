import { authenticateClientWithMethod } from '../clients/authenticate.js';
import type { Core } from '../context.js';
import { jsonResponse, OAuthError } from '../errors.js';
import { readForm } from '../http/body.js';
import type { GrantType } from './grants/types.js';

/**
 * The token endpoint (RFC 6749 §3.2, OAuth 2.1 §3.2): finds the grant type in the registry,
 * authenticates the client, checks it registered that grant type, checks a proof of possession when an
 * extension installed one (RFC 9449 §5), and lets the grant answer.
 */
export function tokenEndpoint(core: Core, grants: readonly GrantType[]) {
  const byName = new Map(grants.map((grant) => [grant.name, grant]));
  return async (request: Request): Promise<Response> => {
    const form = await readForm(request);
    const grantType = form.get('grant_type');
    if (!grantType) throw new OAuthError('invalid_request', 'The grant_type parameter is missing');
    const grant = byName.get(grantType);
    if (!grant) {
      throw new OAuthError(
        'unsupported_grant_type',
        `The grant type "${grantType.slice(0, 100)}" is not supported`,
      );
    }
    const { client, method } = await authenticateClientWithMethod(core, request, form);
    if (!client.grantTypes.includes(grantType)) {
      throw new OAuthError('unauthorized_client', `This client did not register the ${grantType} grant type`);
    }
    const proof = await core.tokenProof?.({ core, request, form, client, authMethod: method });
    const body = await grant.handle({
      core,
      request,
      form,
      client,
      authMethod: method,
      ...(proof?.binding ? { binding: proof.binding } : {}),
    });
    return jsonResponse(body, 200, { ...proof?.headers });
  };
}
