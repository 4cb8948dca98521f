import { publicDocumentUrlProblem } from '../../clients/guarded-fetch.js';
import type { Core } from '../../context.js';
import { OAuthError } from '../../errors.js';
import { coreJwksFetcher, coreReplayGuard, perCore } from '../../jose/for-core.js';
import {
  createIdJagVerifier,
  JWT_BEARER_GRANT_TYPE,
  type TrustedIdp,
  type VerifiedIdJag,
} from '../../jose/id-jag.js';
import { parsePublicJwks } from '../../jose/jwt.js';
import type { HttpFetch } from '../../jose/types.js';
import { invalidOptions } from '../../options.js';
import { type ConfiguredResource, sameResource } from '../../rules/resource.js';
import { clientScopePolicy, grantScopes, parseScope, resourceScopes } from '../../rules/scope.js';
import type { Identity } from '../../types.js';
import { issueTokenResponse } from '../issue.js';
import { invalidGrant, requestedResource, requiredParam, scopesOrRefuse } from '../params.js';
import type { GrantType } from './types.js';

/** Options of `enterpriseManagedAuthorization()`. */
export interface EnterpriseManagedAuthorizationOptions {
  /** The enterprise IdPs whose ID-JAGs are accepted (issuer and `jwks_uri` or `jwks`). */
  readonly trustedIssuers: readonly TrustedIdp[];
  /**
   * Maps a verified ID-JAG to the Portcullis user (`null` refuses it). Default: the IdP's `sub` as the
   * user id and its `email` claim; required with several IdPs, whose subjects could collide.
   */
  readonly mapIdentity?: (assertion: VerifiedIdJag) => Identity | null | Promise<Identity | null>;
  /** Longest accepted time from now to an ID-JAG's `exp`, seconds; default 300. */
  readonly maxLifetimeSeconds?: number;
  /** The fetch for the IdPs' `jwks_uri`; default the one of `clientIdMetadataDocuments`. */
  readonly fetch?: HttpFetch;
}

/** The trusted IdPs, checked when the extension is made (a bad one is a configuration error). */
function checkIssuers(options: EnterpriseManagedAuthorizationOptions): void {
  if (options.trustedIssuers.length === 0)
    throw new TypeError('enterpriseManagedAuthorization: trustedIssuers is empty');
  if (options.trustedIssuers.length > 1 && !options.mapIdentity)
    throw new TypeError(
      'enterpriseManagedAuthorization: several trustedIssuers need mapIdentity (subjects may collide)',
    );
  for (const idp of options.trustedIssuers) {
    const problem =
      (idp.jwks === undefined) === (idp.jwksUri === undefined)
        ? 'needs exactly one of jwks and jwksUri'
        : idp.jwksUri !== undefined
          ? publicDocumentUrlProblem(idp.jwksUri)
          : typeof parsePublicJwks(idp.jwks) === 'string'
            ? 'has an unusable jwks'
            : undefined;
    if (problem) throw new TypeError(`enterpriseManagedAuthorization: ${idp.issuer}: ${problem}`);
  }
}

/** MCP EMA §5.1: the token is for the ID-JAG's `resource`; a `resource` parameter must be one of them. */
function assertedResource(
  core: Core,
  form: ReadonlyMap<string, string>,
  jag: VerifiedIdJag,
): ConfiguredResource {
  const requested = form.get('resource');
  if (jag.resources.length === 0) return requestedResource(core, requested);
  const chosen = requested ?? (jag.resources.length === 1 ? jag.resources[0] : undefined);
  if (chosen === undefined)
    throw new OAuthError('invalid_target', 'The ID-JAG names several resources: choose one with resource');
  if (!jag.resources.some((r) => sameResource(r, chosen)))
    throw new OAuthError('invalid_target', 'The resource is not one the ID-JAG was issued for');
  return requestedResource(core, chosen);
}

/**
 * The JWT bearer grant (RFC 7523 §2.1) with an ID-JAG, for the MCP Enterprise-Managed Authorization
 * extension (draft-ietf-oauth-identity-assertion-authz-grant §4.4): the client presents what its
 * enterprise IdP asserted about the user and gets a token without a consent page. Scopes are the
 * intersection of the requested ones and the ID-JAG's (EMA §7.2.1); no refresh token (the client asks
 * its IdP for a new ID-JAG). Replay rule: each ID-JAG `jti` is accepted once across instances.
 */
export function jwtBearerGrant(options: EnterpriseManagedAuthorizationOptions): GrantType {
  checkIssuers(options);
  const verifierFor = perCore((core: Core) =>
    createIdJagVerifier({
      issuer: core.config.issuer,
      trustedIdps: options.trustedIssuers,
      replay: coreReplayGuard(core),
      fetchJwks: coreJwksFetcher(core, options.fetch),
      now: () => core.now(),
      maxLifetimeSeconds: options.maxLifetimeSeconds ?? 300,
    }),
  );
  return {
    name: JWT_BEARER_GRANT_TYPE,
    enabled(config) {
      // Draft §8.3: this server never honours assertions it would issue itself.
      if (options.trustedIssuers.some((idp) => idp.issuer === config.issuer))
        throw invalidOptions('extensions: a trusted IdP cannot be this issuer');
      return true;
    },
    async handle({ core, form, client, binding }) {
      const jag = await verifierFor(core)(requiredParam(form, 'assertion'), client.clientId);
      const resource = assertedResource(core, form, jag);
      const policy = clientScopePolicy(core.config, client.scope, resource.scopes);
      const limited = jag.scopes.length > 0;
      const requested = parseScope(form.get('scope'));
      const named = resourceScopes(requested ?? []).length > 0;
      // EMA §7.2.1: the intersection of the requested scopes and the ID-JAG's, never a fallback.
      const scopes = scopesOrRefuse(
        grantScopes(requested, {
          ...policy,
          grantable: (s) => policy.grantable(s) && (!limited || jag.scopes.includes(s)),
          defaults: named ? [] : limited ? jag.scopes : policy.defaults,
        }),
      );
      const email = typeof jag.claims.email === 'string' ? jag.claims.email : undefined;
      const identity = options.mapIdentity
        ? await options.mapIdentity(jag)
        : { userId: jag.subject, ...(email ? { email } : {}) };
      if (!identity) throw invalidGrant('The user of the ID-JAG is not allowed here');
      const grant = await core.grants.create({
        clientId: client.clientId,
        userId: identity.userId,
        scopes,
        resource: resource.resource,
        secrets: { email: identity.email, name: identity.name, props: { ...(identity.props ?? {}) } },
        lifetimeSeconds: core.config.lifetimes.access,
      });
      core.config.onEvent({
        type: 'authorization_granted',
        clientId: client.clientId,
        userId: identity.userId,
        scopes,
        resource: resource.resource,
      });
      return issueTokenResponse(core, grant, scopes, false, JWT_BEARER_GRANT_TYPE, undefined, {
        binding,
      });
    },
  };
}
