import { isConfidentialMethod } from '../../clients/auth-methods.js';
import type { Core } from '../../context.js';
import { OAuthError } from '../../errors.js';
import { type ConfiguredResource, sameResource } from '../../rules/resource.js';
import { parseScope } from '../../rules/scope.js';
import type { AuthMethodName, ClientRecord } from '../../stores/schemas.js';
import type { VerifiedToken } from '../../stores/tokens.js';
import { issueTokenResponse } from '../issue.js';
import { invalidGrant, requestedResource, requiredParam } from '../params.js';
import type { GrantType } from './types.js';

/** The grant type of RFC 8693 §2.1. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The token type of an access token (RFC 8693 §3), the only one this server takes and issues. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** A resource server that may exchange the tokens it receives (it authenticates as `clientId`). */
export interface TokenExchanger {
  /** The client the resource server authenticates as at the token endpoint. */
  readonly clientId: string;
  /** The resource it is: it may exchange only subject tokens issued for this resource. */
  readonly resource: string;
  /** The resources it may obtain tokens for; default every configured resource. */
  readonly targets?: readonly string[];
}

/** What a token exchange policy decides on. */
export interface TokenExchangeRequest {
  /** The client (resource server) that asks. */
  readonly clientId: string;
  /** The subject token: whose it is, for whom and what it allows. */
  readonly subject: {
    readonly userId: string;
    readonly clientId: string;
    readonly resource: string;
    readonly scopes: readonly string[];
    readonly act?: Readonly<Record<string, unknown>>;
  };
  /** The target resource. */
  readonly resource: string;
  /** The scopes about to be granted: already within the subject token's and the target's. */
  readonly scopes: readonly string[];
  /** The acting party the new token names (RFC 8693 §4.1 `act`). */
  readonly act: Readonly<Record<string, unknown>>;
}

/** `false` refuses (`invalid_target`), `true` grants, `{ scopes }` narrows the scopes granted. */
export type TokenExchangeDecision = boolean | { readonly scopes: readonly string[] };

/** The application's say on each exchange, after the built-in checks. */
export type TokenExchangePolicy = (
  request: TokenExchangeRequest,
) => TokenExchangeDecision | Promise<TokenExchangeDecision>;

/** Options of `tokenExchange()`. */
export interface TokenExchangeOptions {
  /** The resource servers that may exchange; without it, `policy` alone decides who may. */
  readonly exchangers?: readonly TokenExchanger[];
  /** Called for every exchange that passed the built-in checks; may refuse or narrow. */
  readonly policy?: TokenExchangePolicy;
}

/** RFC 8693 §2.1: a token parameter with its type, which must be an access token of this server. */
async function presentedToken(core: Core, form: ReadonlyMap<string, string>, name: 'subject' | 'actor') {
  const token = form.get(`${name}_token`);
  const type = form.get(`${name}_token_type`);
  if (name === 'actor' && token === undefined && type === undefined) return undefined;
  if (!token) throw new OAuthError('invalid_request', `The ${name}_token parameter is missing`);
  if (!type) throw new OAuthError('invalid_request', `The ${name}_token_type parameter is missing`);
  if (type !== ACCESS_TOKEN_TYPE)
    throw new OAuthError('invalid_request', `The ${name}_token_type must be ${ACCESS_TOKEN_TYPE}`);
  const verified = await core.tokens.verifyAccess(token);
  if (!verified) throw invalidGrant(`The ${name} token is invalid, expired or revoked`);
  return verified;
}

/** RFC 8693 §2.1: the target, named by `resource` and/or `audience` (one configured resource). */
function target(core: Core, form: ReadonlyMap<string, string>): ConfiguredResource {
  const resource = form.get('resource');
  const audience = form.get('audience');
  if (resource === undefined && audience === undefined)
    throw new OAuthError(
      'invalid_request',
      'Name the target resource with the resource or audience parameter',
    );
  const named = requestedResource(core, resource ?? audience);
  if (resource !== undefined && audience !== undefined && !sameResource(audience, named.resource))
    throw new OAuthError('invalid_target', 'The resource and audience parameters name different resources');
  return named;
}

/** Never wider (RFC 8693 §2.1 `scope`): within the subject token's scopes and the target's. */
function exchangedScopes(form: ReadonlyMap<string, string>, subject: VerifiedToken, to: ConfiguredResource) {
  const held = subject.record.scopes.filter((scope) => to.scopes.includes(scope));
  const requested = parseScope(form.get('scope'));
  const wider = requested?.filter((scope) => !held.includes(scope)) ?? [];
  if (wider.length > 0)
    throw new OAuthError(
      'invalid_scope',
      `Scope wider than the subject token or not accepted by the target: ${wider.join(' ').slice(0, 200)}`,
    );
  const scopes = requested ?? held;
  if (scopes.length === 0)
    throw new OAuthError('invalid_scope', 'The subject token has no scope the target resource accepts');
  return scopes;
}

/** Who may exchange: a confidential client, listed in `exchangers` (once per resource it is). */
function exchangerEntries(options: TokenExchangeOptions, client: ClientRecord, method: AuthMethodName) {
  if (!isConfidentialMethod(method))
    throw new OAuthError('unauthorized_client', 'Token exchange needs client authentication');
  if (!options.exchangers) return undefined;
  const entries = options.exchangers.filter((e) => e.clientId === client.clientId);
  if (entries.length === 0)
    throw new OAuthError('unauthorized_client', 'This client may not exchange tokens');
  return entries;
}

/**
 * RFC 8693 token exchange: a resource server holding an access token for itself (`subject_token`)
 * obtains one for another configured resource, for the same user, with scopes never wider, naming
 * itself (or the `actor_token`'s subject) as the acting party in `act` (§4.1). The new token expires
 * with the subject token at the latest and dies with its grant; no refresh token is issued (§2.2.1).
 * Replay rule: none needed, the subject token stays valid and the client authenticates every time.
 */
export function tokenExchangeGrant(options: TokenExchangeOptions): GrantType {
  if (!options.exchangers && !options.policy)
    throw new TypeError('tokenExchange: give exchangers, a policy, or both');
  return {
    name: TOKEN_EXCHANGE_GRANT_TYPE,
    enabled: () => true,
    async handle({ core, form, client, authMethod, binding }) {
      const requestedType = form.get('requested_token_type');
      if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE)
        throw new OAuthError('invalid_request', `Only ${ACCESS_TOKEN_TYPE} can be requested`);
      requiredParam(form, 'subject_token');
      const entries = exchangerEntries(options, client, authMethod);
      const subject = (await presentedToken(core, form, 'subject'))!;
      const exchanger = entries?.find((e) => sameResource(subject.record.resource, e.resource));
      if (entries && !exchanger)
        throw invalidGrant('The subject token was not issued for the resource this client is');
      const to = target(core, form);
      if (exchanger?.targets && !exchanger.targets.some((r) => sameResource(r, to.resource)))
        throw new OAuthError('invalid_target', 'This client may not obtain tokens for that resource');
      let scopes = exchangedScopes(form, subject, to);
      const actor = await presentedToken(core, form, 'actor');
      if (actor && actor.record.clientId !== client.clientId)
        throw invalidGrant('The actor token was not issued to this client');
      // RFC 8693 §4.1: the actor, with the subject token's own actor nested as the prior one.
      const act = {
        sub: actor ? actor.grant.userId : client.clientId,
        ...(subject.record.act ? { act: subject.record.act } : {}),
      };
      if (options.policy) {
        const decision = await options.policy({
          clientId: client.clientId,
          subject: {
            userId: subject.grant.userId,
            clientId: subject.record.clientId,
            resource: subject.record.resource,
            scopes: subject.record.scopes,
            ...(subject.record.act ? { act: subject.record.act } : {}),
          },
          resource: to.resource,
          scopes,
          act,
        });
        if (decision === false)
          throw new OAuthError('invalid_target', 'The token exchange policy refused this request');
        if (decision !== true) scopes = scopes.filter((scope) => decision.scopes.includes(scope));
        if (scopes.length === 0)
          throw new OAuthError('invalid_scope', 'The token exchange policy granted no scope');
      }
      const body = await issueTokenResponse(
        core,
        subject.grant,
        scopes,
        false,
        TOKEN_EXCHANGE_GRANT_TYPE,
        undefined,
        {
          clientId: client.clientId,
          resource: to.resource,
          act,
          notAfter: subject.record.expiresAt,
          binding,
        },
      );
      return { ...body, issued_token_type: ACCESS_TOKEN_TYPE };
    },
  };
}
