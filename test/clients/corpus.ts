/**
 * The real-client corpus: one JSON file per MCP client in `corpus/`, each saying what that client sends to an
 * authorization server (registration body or Client ID Metadata Document, the /authorize and /token
 * requests, discovery order, refresh) and how exact each fact is, with its public sources and a date.
 * The fields are machine-readable: `drive.ts` replays them against a real Portcullis server.
 *
 * String templates in registration bodies, documents and redirect URIs: `{port}` (the loopback port the
 * client listens on for this flow), `{other_port}` (another one), `{uuid}` (a random UUID of this flow), `{callback_id}` (Codex's
 * per-server id: base64url of the first 9 bytes of SHA-256 of the MCP URL), `{scope}` (the scope the client
 * resolved; a JSON member whose whole value is `{scope}` is left out when the client resolved none).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { z } from './deps.js';

/** Where a client first meets the 401: an MCP POST (`initialize`), a GET, a HEAD, or not at all. */
export type Probe = 'post-initialize' | 'get' | 'head' | 'none';
/** RFC 9728 metadata locations: the `resource_metadata` of the challenge, path-suffixed, or the root one. */
export type PrmForm = 'www-authenticate' | 'path-suffixed' | 'root';
/** RFC 8414 / OIDC discovery locations relative to the issuer (insertion before, or appending after, its path). */
export type AsForm = 'oauth-insert' | 'oidc-insert' | 'oidc-append' | 'oauth-root' | 'oidc-root';
/** How the `state` parameter is made (`none`: the client sends no state). */
export type StateFormat =
  | 'none'
  | 'b64-16'
  | 'b64url-16'
  | 'b64url-32'
  | 'hex-32'
  | 'uuid'
  | 'unreserved-32'
  | 'prefixed-hex'
  | 'base64-json';
/** Which `resource` a client sends: the PRM value verbatim, `new URL(prm).href`, its own URL, or none. */
export type ResourceForm = 'prm' | 'prm-href' | 'server-url' | 'omit';
/** Client authentication at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2). */
export type TokenAuth = 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
/** Where requested scopes come from, in the client's order. */
export type ScopeSource = 'challenge' | 'prm' | 'as' | 'static';
/** Flow steps, used to name where a flow stopped. */
export type Step =
  | 'probe'
  | 'prm'
  | 'as'
  | 'register'
  | 'authorize'
  | 'callback'
  | 'token'
  | 'mcp'
  | 'refresh'
  | 'mcp-after-refresh';

export interface Discovery {
  readonly probe: Probe;
  /** Protected-resource metadata URLs, tried in order until one answers 200 (`[]`: the client skips RFC 9728). */
  readonly prm: readonly PrmForm[];
  /** How the client compares the PRM `resource` with the URL it was given (RFC 9728 §3.3). */
  readonly prm_resource_check: 'exact' | 'normalized' | 'origin' | 'none';
  /** The issuer the client looks up: `authorization_servers[0]` of the PRM, or the MCP server's origin. */
  readonly as_from: 'prm' | 'mcp-origin';
  /** AS metadata URLs tried in order (duplicates for a root issuer are tried once). */
  readonly as: readonly AsForm[];
  /** The client refuses metadata whose `issuer` differs from the URL it looked up. */
  readonly checks_issuer: boolean;
  /** Extra headers on discovery requests. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Registration {
  /** What the client uses against an AS with this metadata: a CIMD URL as client_id, or DCR. */
  readonly method: 'cimd' | 'dcr';
  /** AS metadata conditions for CIMD; when one fails the client uses `fallback` (none: it gives up). */
  readonly cimd_requires?: readonly ('cimd_supported' | 'none_auth_supported')[];
  readonly fallback?: 'dcr';
}

export interface CimdDocument {
  readonly client_id: string;
  /** The document exactly as the client publishes it (templates aside); served unaltered. */
  readonly document: Readonly<Record<string, unknown>>;
  /** For `private_key_jwt` clients: the JWKS URL the harness serves a freshly generated public key at. */
  readonly jwks_uri?: string;
}

export interface ScopeRule {
  readonly from: readonly ScopeSource[];
  /** `first`: the first source that names scopes wins; `union`: all are merged (rmcp). */
  readonly combine: 'first' | 'union';
  readonly static?: string;
  /** `offline_access` appended when the AS advertises it (SEP-2207), always, or never. */
  readonly offline_access: 'never' | 'if-advertised' | 'always';
  /** `always`: the parameter is sent even when empty (`scope=`). */
  readonly send: 'if-nonempty' | 'always';
}

export interface Authorize {
  /** Redirect URI used in this flow (template). */
  readonly redirect_uri: string;
  readonly state: { readonly format: StateFormat; readonly prefix?: string; readonly example?: string };
  readonly scope: ScopeRule;
  readonly resource: ResourceForm;
  /** `consent-if-offline`: the TS SDK adds `prompt=consent` when the scope includes offline_access. */
  readonly prompt: 'none' | 'consent' | 'consent-if-offline';
}

export interface TokenRequest {
  /** Methods the client can use, best first; it takes the first the AS advertises, else the last. `sdk`: the
   * TS SDK's choice (the method DCR returned when the AS lists it, else basic/post with a secret, else none).
   * `registered`: whatever the registration answered (DCR) or the document declares (CIMD). */
  readonly auth: readonly TokenAuth[] | 'sdk' | 'registered';
  /** `raw`: Basic credentials not form-encoded (TS SDK `btoa(id:secret)`); `form`: RFC 6749 §2.3.1. */
  readonly basic_encoding: 'raw' | 'form';
  readonly resource: ResourceForm;
  readonly redirect_uri: boolean;
  /** Also send client_id in the body when authenticating with Basic. */
  readonly client_id_with_basic: boolean;
  readonly accept?: string;
  /** For private_key_jwt (RFC 7523 §3): the assertion's audience and lifetime. */
  readonly assertion?: { readonly aud: 'token_endpoint' | 'issuer'; readonly lifetime_seconds: number };
}

export interface Refresh {
  /** Whether the client refreshes at all (some re-authorize or stop when the token expires). */
  readonly performs: boolean;
  readonly resource: ResourceForm;
  readonly scope: 'omit' | 'requested';
  readonly concurrency: string;
  readonly retry: string;
}

export interface McpRequest {
  readonly protocol_version: string;
  readonly client_info: { readonly name: string; readonly version: string };
}

export interface KnownClientBug {
  readonly summary: string;
  readonly evidence: readonly string[];
  /** The documented failure the test asserts: where, the status, the error code and part of its description. */
  readonly fails_at: Step;
  readonly status: number;
  readonly error: string;
  readonly error_description_includes: string;
}

/** One corpus entry: one client (or one documented build/path of a client). */
export interface CorpusEntry {
  readonly id: string;
  readonly client: string;
  readonly version_or_date: string;
  /** When these facts were gathered (YYYY-MM-DD). */
  readonly gathered: string;
  readonly source_urls: readonly string[];
  /** How exact each part is (verbatim, reconstructed, SDK default, assumed) and from where; it covers at
   * least registration, authorize, token, discovery and refresh. */
  readonly exactness: Readonly<Record<string, string>>;
  readonly registration: Registration;
  readonly dcr_request?: Readonly<Record<string, unknown>>;
  readonly cimd?: CimdDocument;
  /** Other published versions of the document, recorded but not driven. */
  readonly document_variants?: readonly {
    readonly label: string;
    readonly source: string;
    readonly document: Readonly<Record<string, unknown>>;
  }[];
  readonly discovery: Discovery;
  readonly authorize: Authorize;
  readonly token: TokenRequest;
  readonly refresh: Refresh;
  readonly mcp: McpRequest;
  /** Request headers that identify the client on every call (User-Agent, a browser's Origin). */
  readonly http?: { readonly user_agent?: string; readonly origin?: string };
  /** How the server is set up for this entry (a client path that only exists with CIMD turned off). */
  readonly server?: { readonly client_id_metadata_documents: boolean };
  /** How many complete flows the client runs from one backend address (a new registration each time for
   * DCR), and whether they are one user's sign-ins or each a different user's (with a browser of their own). */
  readonly connections?: { readonly count: number; readonly users: 'one' | 'each'; readonly why: string };
  readonly quirks: readonly string[];
  readonly known_client_bug?: KnownClientBug;
}

const text = z.string().min(1);
const strings = z.array(text);
const record = z.record(z.string(), z.unknown());

const entrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  client: text,
  version_or_date: text,
  gathered: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  source_urls: z.array(z.string().regex(/^https:\/\/\S+$|^public-repo \S.*$/)).min(1),
  exactness: z
    .record(z.string(), text)
    .refine(
      (e) => ['registration', 'authorize', 'token', 'discovery', 'refresh'].every((k) => k in e),
      'exactness must cover registration, authorize, token, discovery and refresh',
    ),
  registration: z.strictObject({
    method: z.enum(['cimd', 'dcr']),
    cimd_requires: z.optional(z.array(z.enum(['cimd_supported', 'none_auth_supported']))),
    fallback: z.optional(z.literal('dcr')),
  }),
  dcr_request: z.optional(record),
  cimd: z.optional(
    z.strictObject({
      client_id: z.string().startsWith('https://'),
      document: record,
      jwks_uri: z.optional(text),
    }),
  ),
  document_variants: z.optional(z.array(z.strictObject({ label: text, source: text, document: record }))),
  discovery: z.strictObject({
    probe: z.enum(['post-initialize', 'get', 'head', 'none']),
    prm: z.array(z.enum(['www-authenticate', 'path-suffixed', 'root'])),
    prm_resource_check: z.enum(['exact', 'normalized', 'origin', 'none']),
    as_from: z.enum(['prm', 'mcp-origin']),
    as: z.array(z.enum(['oauth-insert', 'oidc-insert', 'oidc-append', 'oauth-root', 'oidc-root'])).min(1),
    checks_issuer: z.boolean(),
    headers: z.optional(z.record(z.string(), z.string())),
  }),
  authorize: z.strictObject({
    redirect_uri: text,
    state: z.strictObject({
      format: z.enum([
        'none',
        'b64-16',
        'b64url-16',
        'b64url-32',
        'hex-32',
        'uuid',
        'unreserved-32',
        'prefixed-hex',
        'base64-json',
      ]),
      prefix: z.optional(text),
      example: z.optional(text),
    }),
    scope: z.strictObject({
      from: z.array(z.enum(['challenge', 'prm', 'as', 'static'])),
      combine: z.enum(['first', 'union']),
      static: z.optional(z.string()),
      offline_access: z.enum(['never', 'if-advertised', 'always']),
      send: z.enum(['if-nonempty', 'always']),
    }),
    resource: z.enum(['prm', 'prm-href', 'server-url', 'omit']),
    prompt: z.enum(['none', 'consent', 'consent-if-offline']),
  }),
  token: z.strictObject({
    auth: z.union([
      z.literal('sdk'),
      z.literal('registered'),
      z.array(z.enum(['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'])).min(1),
    ]),
    basic_encoding: z.enum(['raw', 'form']),
    resource: z.enum(['prm', 'prm-href', 'server-url', 'omit']),
    redirect_uri: z.boolean(),
    client_id_with_basic: z.boolean(),
    accept: z.optional(text),
    assertion: z.optional(
      z.strictObject({
        aud: z.enum(['token_endpoint', 'issuer']),
        lifetime_seconds: z.number().int().positive(),
      }),
    ),
  }),
  refresh: z.strictObject({
    performs: z.boolean(),
    resource: z.enum(['prm', 'prm-href', 'server-url', 'omit']),
    scope: z.enum(['omit', 'requested']),
    concurrency: text,
    retry: text,
  }),
  mcp: z.strictObject({
    protocol_version: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    client_info: z.strictObject({ name: text, version: text }),
  }),
  http: z.optional(z.strictObject({ user_agent: z.optional(text), origin: z.optional(text) })),
  server: z.optional(z.strictObject({ client_id_metadata_documents: z.boolean() })),
  connections: z.optional(
    z.strictObject({ count: z.number().int().min(1).max(100), users: z.enum(['one', 'each']), why: text }),
  ),
  quirks: strings,
  known_client_bug: z.optional(
    z.strictObject({
      summary: text,
      evidence: z.array(z.string().startsWith('https://')).min(1),
      fails_at: z.enum([
        'probe',
        'prm',
        'as',
        'register',
        'authorize',
        'callback',
        'token',
        'mcp',
        'refresh',
        'mcp-after-refresh',
      ]),
      status: z.number().int(),
      error: text,
      error_description_includes: text,
    }),
  ),
});

// The schema and the documented type must describe the same entries.
type SchemaEntry = z.infer<typeof entrySchema>;
const sameShape: (entry: SchemaEntry) => CorpusEntry = (entry) => entry;
void sameShape;

/** Validates one parsed entry; throws with the file name and every problem. */
export function parseEntry(json: unknown, file: string): CorpusEntry {
  const parsed = entrySchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`);
    throw new Error(`${file}: invalid corpus entry\n  - ${problems.join('\n  - ')}`);
  }
  const entry = parsed.data;
  if (`${entry.id}.json` !== file) throw new Error(`${file}: id "${entry.id}" does not match the file name`);
  if (entry.registration.method === 'dcr' || entry.registration.fallback === 'dcr') {
    if (!entry.dcr_request) throw new Error(`${file}: a DCR client needs dcr_request`);
  }
  if (entry.registration.method === 'cimd' && !entry.cimd)
    throw new Error(`${file}: a CIMD client needs cimd`);
  if (entry.cimd && entry.cimd.document.client_id !== entry.cimd.client_id)
    throw new Error(`${file}: the CIMD document must name its own client_id`);
  return entry;
}

const corpusDir = new URL('./corpus/', import.meta.url);

/** Loads and validates every entry of the corpus folder, sorted by id. */
export function loadCorpus(): CorpusEntry[] {
  const files = readdirSync(corpusDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.map((file) => parseEntry(JSON.parse(readFileSync(new URL(file, corpusDir), 'utf8')), file));
}
