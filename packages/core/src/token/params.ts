import type { Core } from '../context.js';
import { OAuthError } from '../errors.js';
import {
  type ConfiguredResource,
  findResource,
  resourceParameterProblem,
  sameResource,
} from '../rules/resource.js';
import { parseScope, refreshScopes, type ScopeDecision } from '../rules/scope.js';

/** A required, non-empty form parameter (RFC 6749 §5.2 `invalid_request` when missing). */
export function requiredParam(form: ReadonlyMap<string, string>, name: string): string {
  const value = form.get(name);
  if (value === undefined || value === '')
    throw new OAuthError('invalid_request', `The ${name} parameter is missing`);
  return value;
}

/** RFC 8707 §2.2: a `resource` on a token request must name the grant's resource. */
export function checkTokenResource(form: ReadonlyMap<string, string>, resource: string): void {
  const requested = form.get('resource');
  const problem = requested === undefined ? undefined : resourceParameterProblem(requested);
  if (problem) throw new OAuthError('invalid_target', problem);
  if (requested !== undefined && !sameResource(requested, resource)) {
    throw new OAuthError('invalid_target', 'The resource does not match the one authorized');
  }
}

/** An `invalid_grant` refusal (RFC 6749 §5.2). */
export const invalidGrant = (description: string): OAuthError => new OAuthError('invalid_grant', description);

/**
 * The scopes of a refresh request (RFC 6749 §6): narrowed, never widened; an absent or empty `scope`
 * (or only `offline_access`) keeps the current ones; unknown scopes dropped unless scopes are strict.
 */
export function refreshedScopes(
  core: Core,
  form: ReadonlyMap<string, string>,
  granted: readonly string[],
  current: readonly string[],
): string[] {
  const { config } = core;
  const decision = refreshScopes(
    parseScope(form.get('scope')),
    { granted, current },
    { supported: config.scopesSupported, strict: config.strictScopes },
  );
  if (!decision.ok) {
    throw new OAuthError(
      'invalid_scope',
      `Scope not granted originally: ${decision.refused.join(' ').slice(0, 200)}`,
    );
  }
  return decision.scopes;
}

/**
 * RFC 8707 §2: the configured resource a token request names with `resource` (for grants without an
 * authorization request); without one, `fallback` or the first configured resource.
 */
export function requestedResource(
  core: Core,
  requested: string | undefined,
  fallback?: ConfiguredResource,
): ConfiguredResource {
  if (requested === undefined) return fallback ?? core.config.resources[0]!;
  const problem = resourceParameterProblem(requested);
  if (problem) throw new OAuthError('invalid_target', problem);
  const resource = findResource(core.config.resources, requested);
  if (!resource)
    throw new OAuthError(
      'invalid_target',
      'The requested resource is not served by this authorization server',
    );
  return resource;
}

/** The scopes of a decision, or the RFC 6749 §5.2 `invalid_scope` refusal naming the refused ones. */
export function scopesOrRefuse(decision: ScopeDecision): string[] {
  if (decision.ok) return decision.scopes;
  throw new OAuthError('invalid_scope', `Scope not grantable: ${decision.refused.join(' ').slice(0, 200)}`);
}
