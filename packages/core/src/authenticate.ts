import type { Core } from './context.js';
import { resourceMetadataUrl } from './endpoints/metadata.js';
import { StorageUnavailableError, storageErrorEvent } from './errors.js';
import type { ChallengeTarget } from './resource/challenge.js';
import type { ResourceGuard, TokenCheck } from './resource/guard.js';
import { withoutRefresh } from './resource/upstream-token.js';
import { type ConfiguredResource, findResource, resourceForPath, sameResource } from './rules/resource.js';
import type { Props, UpstreamToken } from './types.js';

/** The configured resource a request is for: the one named, else the one its path belongs to. */
export function resourceFor(core: Core, request: Request, wanted?: string): ConfiguredResource {
  const named = wanted ? findResource(core.config.resources, wanted) : undefined;
  return named ?? resourceForPath(core.config.resources, new URL(request.url).pathname);
}

/** Where the challenges of a configured resource point, and the baseline scopes its 401 advertises. */
export const challengeTarget = (core: Core, resource: ConfiguredResource): ChallengeTarget => ({
  metadataUrl: resourceMetadataUrl(core, resource),
  scopes: resource.advertisedScopes,
  ...(core.resourceProof ? { dpopAlgorithms: core.resourceProof.algorithms } : {}),
});

/** Checks an access token issued by this server: live, unrevoked, for this resource. */
async function verifyOwnToken(core: Core, token: string, resource: string): Promise<TokenCheck> {
  try {
    const verified = await core.tokens.verifyAccess(token);
    if (!verified)
      return { ok: false, reason: 'invalid', description: 'The access token is invalid, expired or revoked' };
    const { record, grant, secrets } = verified;
    if (!sameResource(record.resource, resource)) {
      return {
        ok: false,
        reason: 'invalid',
        description: 'The access token was not issued for this resource',
      };
    }
    return {
      ok: true,
      info: {
        token,
        clientId: record.clientId,
        userId: grant.userId,
        ...(secrets.email !== undefined ? { email: secrets.email } : {}),
        ...(secrets.name !== undefined ? { name: secrets.name } : {}),
        scopes: record.scopes,
        resource: record.resource,
        props: secrets.props as Props,
        expiresAt: Math.floor(record.expiresAt / 1000),
        ...(record.act ? { act: record.act } : {}),
        ...(record.jkt ? { cnf: { jkt: record.jkt } } : {}),
        ...(secrets.upstreamToken
          ? { upstreamToken: withoutRefresh(secrets.upstreamToken as unknown as UpstreamToken) }
          : {}),
      },
    };
  } catch (error) {
    if (!(error instanceof StorageUnavailableError)) throw error;
    core.config.onEvent(storageErrorEvent(error));
    return { ok: false, reason: 'unavailable', description: 'Token storage is unavailable; try again' };
  }
}

/** The resource side of the authorization server, plugged into the shared front end. */
export function ownResourceGuard(core: Core): ResourceGuard {
  // One target per configured resource, made once (it is read on every request).
  const targets = new WeakMap<ConfiguredResource, ChallengeTarget & { readonly resource: string }>();
  return {
    target(request, wanted) {
      const resource = resourceFor(core, request, wanted);
      let target = targets.get(resource);
      if (!target) {
        target = { ...challengeTarget(core, resource), resource: resource.resource };
        targets.set(resource, target);
      }
      return target;
    },
    verify: (token, resource) => verifyOwnToken(core, token, resource),
    ...(core.resourceProof ? { proof: core.resourceProof } : {}),
  };
}
