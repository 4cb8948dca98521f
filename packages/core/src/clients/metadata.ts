import * as z from 'zod/mini';
import { OAuthError } from '../errors.js';
import { redirectUriProblem } from '../rules/redirect-uri.js';
import type { ClientRecord } from '../stores/schemas.js';
import { englishErrors } from '../validation.js';

const MAX_REDIRECT_URIS = 10;
const text = (max: number) => z.string().check(z.maxLength(max));
const httpUri = z.string().check(
  z.maxLength(2000),
  z.refine((v) => {
    try {
      const url = new URL(v);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL'),
);

/** RFC 7591 §2 client metadata this server accepts; unknown fields are ignored (§3.1). */
const metadataSchema = z.object({
  redirect_uris: z.array(z.string()).check(z.minLength(1), z.maxLength(MAX_REDIRECT_URIS)),
  token_endpoint_auth_method: z.optional(z.enum(['none', 'client_secret_basic', 'client_secret_post'])),
  grant_types: z.optional(z.array(z.enum(['authorization_code', 'refresh_token'])).check(z.minLength(1))),
  response_types: z.optional(z.array(z.literal('code')).check(z.minLength(1))),
  client_name: z.optional(text(200)),
  client_uri: z.optional(httpUri),
  logo_uri: z.optional(httpUri),
  scope: z.optional(text(1000)),
  contacts: z.optional(z.array(text(320)).check(z.maxLength(10))),
  tos_uri: z.optional(httpUri),
  policy_uri: z.optional(httpUri),
  software_id: z.optional(text(200)),
  software_version: z.optional(text(100)),
});

/** Validates RFC 7591 metadata and returns the client record fields it determines. */
/** What the server supports, for checking client metadata against it. */
export interface MetadataSupport {
  /** Scopes clients may request. */
  readonly scopesSupported: readonly string[];
}

export function validateMetadata(support: MetadataSupport, body: Record<string, unknown>) {
  const redirects = body.redirect_uris;
  if (Array.isArray(redirects)) {
    if (redirects.length > MAX_REDIRECT_URIS) {
      throw new OAuthError(
        'invalid_redirect_uri',
        `At most ${MAX_REDIRECT_URIS} redirect URIs may be registered`,
      );
    }
    for (const uri of redirects) {
      if (typeof uri !== 'string')
        throw new OAuthError('invalid_redirect_uri', 'Every redirect URI must be a string');
      const problem = redirectUriProblem(uri);
      // RFC 7591 §3.2.2: invalid_redirect_uri names the offending value's problem.
      if (problem)
        throw new OAuthError(
          'invalid_redirect_uri',
          `The redirect URI ${JSON.stringify(uri.slice(0, 200))} ${problem}`,
        );
    }
  } else if (redirects === undefined) {
    throw new OAuthError(
      'invalid_redirect_uri',
      'redirect_uris is required for the authorization code grant',
    );
  }
  const parsed = metadataSchema.safeParse(body, { error: englishErrors });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'metadata';
    throw new OAuthError('invalid_client_metadata', `Invalid ${field}: ${issue?.message ?? 'invalid value'}`);
  }
  const m = parsed.data;
  if (body.jwks !== undefined || body.jwks_uri !== undefined) {
    throw new OAuthError(
      'invalid_client_metadata',
      'jwks and jwks_uri are not supported (no private_key_jwt)',
    );
  }
  const grantTypes = m.grant_types ?? ['authorization_code'];
  if (!grantTypes.includes('authorization_code')) {
    throw new OAuthError('invalid_client_metadata', 'grant_types must include authorization_code');
  }
  if (m.scope !== undefined) {
    const unknown = m.scope.split(' ').filter((s) => s && !support.scopesSupported.includes(s));
    if (unknown.length)
      throw new OAuthError('invalid_client_metadata', `Unsupported scope: ${unknown.join(' ')}`);
  }
  return {
    // RFC 7591 §2: the default token_endpoint_auth_method is client_secret_basic.
    authMethod: m.token_endpoint_auth_method ?? 'client_secret_basic',
    redirectUris: m.redirect_uris,
    grantTypes,
    responseTypes: m.response_types ?? ['code'],
    clientName: m.client_name,
    clientUri: m.client_uri,
    logoUri: m.logo_uri,
    scope: m.scope,
    contacts: m.contacts,
    tosUri: m.tos_uri,
    policyUri: m.policy_uri,
    softwareId: m.software_id,
    softwareVersion: m.software_version,
  } satisfies Partial<ClientRecord>;
}
