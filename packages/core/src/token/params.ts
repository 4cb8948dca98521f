import type { Core } from '../context.js';
import { OAuthError } from '../errors.js';
import { resourceParameterProblem, sameResource } from '../rules/resource.js';
import { parseScope, refreshScopes } from '../rules/scope.js';

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
