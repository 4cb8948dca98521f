import { acceptedAuthMethods } from '../clients/auth-methods.js';
import type { ClientMetadata } from '../clients/metadata.js';
import type { Core } from '../context.js';
import { sha256 } from '../crypto/hash.js';
import { isLoopbackHttp } from '../rules/loopback.js';
import type { ClientRecord } from '../stores/schemas.js';
import * as v from '../validation/schema.js';

/**
 * Identical re-registrations (a client that registers at every login, Zed) must not pile up records.
 * Only public clients qualify: a confidential client's secret can never be handed out again, and a
 * client's RFC 7592 registration access token belongs to its first registrant alone — who could
 * otherwise rewrite the redirect URIs of a client other people use. So the first registration of some
 * metadata gets its own manageable client, as always; the second one creates a *shared* client without
 * a registration access token, and every later identical registration is answered with that one.
 */
const reuseRecord = v.object({ shared: v.optional(v.string()) });

/** What registration does for metadata: answer with `client`, or create a (shared) client. */
export interface Reuse {
  /** The existing shared client to answer with. */
  readonly client?: ClientRecord;
  /** Create the new client as shared (no registration access token). */
  readonly share: boolean;
  /** Remembers the client created for this metadata. */
  remember(created: ClientRecord): Promise<void>;
}

/** A loopback redirect URI without its port: RFC 8252 §7.3 lets any port match it anyway. */
function withoutLoopbackPort(uri: string): string {
  const url = new URL(uri);
  return isLoopbackHttp(url) && url.port ? uri.replace(`${url.hostname}:${url.port}`, url.hostname) : uri;
}

/** The identity of registered metadata: every field that shapes the client, redirect ports aside. */
async function fingerprint(fields: ClientMetadata): Promise<string> {
  const sorted = (list: readonly string[] | undefined) => [...new Set(list ?? [])].sort();
  return sha256(
    JSON.stringify([
      sorted(fields.redirectUris.map(withoutLoopbackPort)),
      sorted(fields.grantTypes),
      sorted(fields.responseTypes),
      fields.authMethod,
      fields.authMethods ?? null,
      fields.applicationType ?? null,
      fields.clientName ?? null,
      fields.clientUri ?? null,
      fields.logoUri ?? null,
      fields.scope ?? null,
      sorted(fields.contacts),
      fields.tosUri ?? null,
      fields.policyUri ?? null,
      fields.softwareId ?? null,
      fields.softwareVersion ?? null,
      // Appended only when set, so the fingerprints of earlier registrations stay the same.
      ...(fields.dpopBoundAccessTokens ? [true] : []),
    ]),
  );
}

/** Whether metadata describes a public client that identical registrations may share. */
const shareable = (fields: ClientMetadata) =>
  fields.authMethod === 'none' && fields.authMethods === undefined && !fields.jwks && !fields.jwksUri;

/** How registration treats this metadata, or `undefined` when every registration creates a client. */
export async function reuseFor(core: Core, fields: ClientMetadata): Promise<Reuse | undefined> {
  if (!shareable(fields)) return undefined;
  const print = await fingerprint(fields);
  const key = `dcr:${print}`;
  const known = await core.records.get('cache', key, reuseRecord);
  const shared = known?.shared ? await core.clients.registered(known.shared) : null;
  const unused = core.config.registration.unusedClientMs;
  const remember = async (created: ClientRecord) => {
    const value = known ? { shared: created.clientId } : {};
    await core.records.put('cache', key, value, unused === null ? null : core.now() + unused);
  };
  // The shared client is used only while it still has exactly this metadata and no manager.
  const usable =
    shared !== null &&
    shared.registrationTokenHash === undefined &&
    acceptedAuthMethods(shared).every((m) => m === 'none') &&
    (await fingerprint(shared)) === print;
  return usable ? { client: shared, share: true, remember } : { share: known !== null, remember };
}
