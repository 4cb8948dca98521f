/**
 * The authorization code flow driven by oauth4webapi (a client someone else wrote), against an
 * in-process server or a listening one, optionally with its DPoP support.
 */
import * as oauth from 'oauth4webapi';
import { approveWithPin, Browser, PIN } from '../helpers.js';

type Fetcher = (request: Request) => Promise<Response>;

/** Options of {@link codeFlow}. */
export interface FlowOptions {
  /** The issuer identifier. */
  readonly issuer: string;
  /** How requests reach the server; default the real network. */
  readonly fetcher?: Fetcher;
  readonly pin?: string;
  /** The resource to ask a token for (RFC 8707). */
  readonly resource: string;
  /** oauth4webapi's DPoP handle, for a DPoP-bound token. */
  readonly dpop?: oauth.DPoPHandle;
  /** Extra registration metadata (e.g. `dpop_bound_access_tokens`). */
  readonly metadata?: Record<string, unknown>;
}

/** What a finished flow hands back to the test. */
export interface Flow {
  readonly as: oauth.AuthorizationServer;
  readonly client: oauth.Client;
  readonly clientAuth: oauth.ClientAuth;
  /** The client secret of a confidential client. */
  readonly secret?: string;
  readonly tokens: oauth.TokenEndpointResponse;
  /** oauth4webapi options for further requests (custom fetch, http allowed on loopback). */
  readonly options: { [oauth.customFetch]: typeof fetch; [oauth.allowInsecureRequests]: boolean };
}

/** Retries once when the server asks for a DPoP nonce (RFC 9449 §8); oauth4webapi kept the nonce. */
export async function withNonceRetry<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error;
    return attempt();
  }
}

/** Discovery, registration, PIN approval and code redemption with oauth4webapi. */
export async function codeFlow(flow: FlowOptions): Promise<Flow> {
  const fetcher: Fetcher = flow.fetcher ?? ((request) => fetch(request));
  const customFetch = ((input: string | URL | Request, init?: RequestInit) =>
    fetcher(new Request(input, init))) as typeof fetch;
  const options = { [oauth.customFetch]: customFetch, [oauth.allowInsecureRequests]: true };
  const issuer = new URL(flow.issuer);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }),
  );
  const redirectUri = 'http://127.0.0.1:43117/callback';
  const registered = await oauth.processDynamicClientRegistrationResponse(
    await oauth.dynamicClientRegistrationRequest(
      as,
      {
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        ...flow.metadata,
      },
      options,
    ),
  );
  const client: oauth.Client = { client_id: registered.client_id };
  const secret = registered.client_secret;
  const clientAuth = typeof secret === 'string' ? oauth.ClientSecretPost(secret) : oauth.None();
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    scope: 'mcp',
    state,
    resource: flow.resource,
  }).toString();
  const redirect = await approveWithPin(new Browser(fetcher), url.toString(), flow.pin ?? PIN);
  const callback = oauth.validateAuthResponse(as, client, new URL(redirect.headers.get('location')!), state);
  const tokens = await withNonceRetry(async () =>
    oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, callback, redirectUri, verifier, {
        ...options,
        ...(flow.dpop ? { DPoP: flow.dpop } : {}),
      }),
    ),
  );
  return { as, client, clientAuth, tokens, options, ...(typeof secret === 'string' ? { secret } : {}) };
}
