/**
 * How the client gets a client_id: its Client ID Metadata Document (served to the server unaltered through
 * the injected fetch, with a freshly generated key set for `private_key_jwt` documents), or RFC 7591 dynamic
 * registration with the body it sends. Also the scope it resolves, since it goes into the registration.
 */
import type { CorpusEntry, ScopeRule } from '../corpus.js';
import { jose } from '../deps.js';
import type { Discovered } from './discovery.js';
import { type ClientHttp, FlowError } from './http.js';
import type { CorpusServer } from './server.js';
import { type FlowValues, fill, fillJson, stringList } from './values.js';

/** A signing key whose public half the client publishes in its JWKS (RFC 7517). */
export interface SigningKey {
  readonly privateKey: CryptoKey;
  readonly kid: string;
  readonly alg: string;
}

/** The client as registered: its id, and what it authenticates with. */
export interface RegisteredClient {
  readonly method: 'cimd' | 'dcr';
  readonly clientId: string;
  readonly clientSecret?: string;
  /** The token_endpoint_auth_method the registration answered with (DCR) or the document declares (CIMD). */
  readonly authMethod?: string;
  /** The grants the client asked for (its body or document): it expects a refresh token if refresh_token is one. */
  readonly grantTypes: readonly string[];
  readonly key?: SigningKey;
}

/** The scope string the client puts in its requests (null: none), per its selection rule. */
export function resolveScope(rule: ScopeRule, found: Discovered): string | null {
  const candidates: Record<string, string[]> = {
    challenge: found.challenge?.scope?.split(' ').filter(Boolean) ?? [],
    prm: stringList(found.prm?.scopes_supported),
    as: stringList(found.as.scopes_supported),
  };
  // A recorded literal (Claude.ai's " offline_access") is sent as captured, leading space and all.
  if (rule.from[0] === 'static' && rule.static !== undefined) return rule.static;
  let scopes: string[] = [];
  for (const source of rule.from) {
    const named = source === 'static' ? (rule.static ?? '').split(' ').filter(Boolean) : candidates[source]!;
    if (rule.combine === 'first' && named.length > 0) {
      scopes = named;
      break;
    }
    if (rule.combine === 'union') scopes = [...new Set([...scopes, ...named])];
  }
  const advertised = candidates.as!.includes('offline_access');
  const addOffline =
    rule.offline_access === 'always' ||
    (rule.offline_access === 'if-advertised' && advertised && scopes.length > 0);
  if (addOffline && !scopes.includes('offline_access')) scopes.push('offline_access');
  if (scopes.length > 0) return scopes.join(' ');
  return rule.send === 'always' ? '' : null;
}

/** Which registration the client uses against this AS metadata. */
function chosenMethod(entry: CorpusEntry, as: Discovered['as']): 'cimd' | 'dcr' {
  const { method, cimd_requires: requires = ['cimd_supported'], fallback } = entry.registration;
  if (method === 'dcr') return 'dcr';
  const holds = {
    cimd_supported: as.client_id_metadata_document_supported === true,
    none_auth_supported: stringList(as.token_endpoint_auth_methods_supported).includes('none'),
  };
  if (requires.every((condition) => holds[condition])) return 'cimd';
  if (fallback === 'dcr') return 'dcr';
  throw new FlowError(
    'register',
    0,
    'no_registration_path',
    'the AS metadata meets none of the client’s paths',
  );
}

/** Publishes a new key pair's public JWK (RFC 7517) at `jwksUri` in `documents`, for a private_key_jwt client. */
export async function publishKey(
  documents: Map<string, unknown>,
  jwksUri: string,
  alg: string,
): Promise<SigningKey> {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg);
  const jwk = await jose.exportJWK(publicKey);
  const kid = await jose.calculateJwkThumbprint(jwk);
  documents.set(jwksUri, { keys: [{ ...jwk, kid, alg, use: 'sig' }] });
  return { privateKey, kid, alg };
}

/** Registers the client (DCR) or publishes its metadata document (CIMD). */
export async function register(
  entry: CorpusEntry,
  http: ClientHttp,
  server: CorpusServer,
  found: Discovered,
  values: FlowValues,
): Promise<RegisteredClient> {
  if (chosenMethod(entry, found.as) === 'cimd' && entry.cimd) {
    const clientId = fill(entry.cimd.client_id, values);
    const document = fillJson(entry.cimd.document, values) as Record<string, unknown>;
    server.documents.set(clientId, document);
    const alg =
      typeof document.token_endpoint_auth_signing_alg === 'string'
        ? document.token_endpoint_auth_signing_alg
        : 'RS256';
    const key = entry.cimd.jwks_uri
      ? await publishKey(server.documents, fill(entry.cimd.jwks_uri, values), alg)
      : undefined;
    const authMethod =
      typeof document.token_endpoint_auth_method === 'string' ? document.token_endpoint_auth_method : 'none';
    return {
      method: 'cimd',
      clientId,
      authMethod,
      grantTypes: stringList(document.grant_types),
      ...(key ? { key } : {}),
    };
  }
  const endpoint = found.as.registration_endpoint;
  if (typeof endpoint !== 'string')
    throw new FlowError(
      'register',
      0,
      'no_registration_endpoint',
      'the AS metadata has no registration_endpoint',
    );
  const body = fillJson(entry.dcr_request, values);
  const info = await http.json(
    'register',
    endpoint,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    },
    201,
  );
  if (typeof info.client_id !== 'string')
    throw new FlowError('register', 201, 'no_client_id', JSON.stringify(info));
  return {
    method: 'dcr',
    clientId: info.client_id,
    ...(typeof info.client_secret === 'string' ? { clientSecret: info.client_secret } : {}),
    ...(typeof info.token_endpoint_auth_method === 'string'
      ? { authMethod: info.token_endpoint_auth_method }
      : {}),
    grantTypes: stringList((body as Record<string, unknown>).grant_types),
  };
}
