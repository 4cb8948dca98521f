/**
 * Drives one corpus client through the whole flow against a real Portcullis on 127.0.0.1, shaped the way
 * that client does it: its 401 probe and discovery order, its registration body or metadata document, its
 * authorization request (redirect URI form, state format, scope, resource, prompt), the PIN page, its
 * token request and client authentication, real MCP requests with the token, and its refresh.
 * Any step the server refuses stops the flow with a FlowError naming the step, status and error.
 */
import type { Extension } from '@portcullis/core';
import type { CorpusEntry } from './corpus.js';
import { approve, authorizationRequest, readCallback, resourceValue } from './harness/authorize.js';
import { discover } from './harness/discovery.js';
import { ClientHttp, FlowError, type Sent } from './harness/http.js';
import { callWhoami, listTools, type Who } from './harness/mcp.js';
import { register, resolveScope } from './harness/register.js';
import { type CorpusServer, startCorpusServer } from './harness/server.js';
import { chooseAuth, tokenRequest } from './harness/token.js';
import { fill, flowValues, makeState } from './harness/values.js';

export { FlowError } from './harness/http.js';

/** What one complete flow of a client did and what the server answered. */
export interface FlowReport {
  readonly registration: 'cimd' | 'dcr';
  readonly clientId: string;
  readonly tokenAuth: string;
  readonly authorizationUrl: string;
  readonly state: string | undefined;
  readonly scopeRequested: string | null;
  readonly grantedScope: string | undefined;
  readonly who: Who;
  readonly refreshed: boolean;
  readonly toolsAfterRefresh: readonly string[];
}

/** Every flow of a client, the requests it sent and the documents the server fetched. */
export interface DriveReport {
  readonly issuer: string;
  readonly mcpUrl: string;
  readonly flows: readonly FlowReport[];
  readonly sent: readonly Sent[];
  readonly fetched: readonly string[];
}

async function runFlow(
  entry: CorpusEntry,
  server: CorpusServer,
  http: ClientHttp,
  browserAddress: string,
): Promise<FlowReport> {
  const { mcpUrl } = server;
  const values = flowValues(mcpUrl);
  const found = await discover(entry, http, mcpUrl);
  values.scope = resolveScope(entry.authorize.scope, found);
  const client = await register(entry, http, server, found, values);

  const request = authorizationRequest(entry, found, client, {
    redirectUri: fill(entry.authorize.redirect_uri, values),
    state: makeState(entry.authorize.state),
    scope: values.scope,
    mcpUrl,
  });
  const code = readCallback(request, await approve(request, browserAddress), found.issuer);

  const method = chooseAuth(entry, client, found.as);
  const tokens = await tokenRequest('token', entry, http, found.as, client, method, {
    grant_type: 'authorization_code',
    code,
    code_verifier: request.verifier,
    redirect_uri: entry.token.redirect_uri ? request.redirectUri : undefined,
    resource: resourceValue(entry.token.resource, found, mcpUrl),
  });
  const who = await callWhoami(entry, http, mcpUrl, tokens.access_token);
  if (who.clientId !== client.clientId)
    throw new FlowError('mcp', 200, 'wrong_client', `token of ${who.clientId}, client ${client.clientId}`);

  let toolsAfterRefresh: string[] = [];
  const wantsRefresh = entry.refresh.performs && client.grantTypes.includes('refresh_token');
  if (wantsRefresh) {
    if (!tokens.refresh_token)
      throw new FlowError(
        'token',
        200,
        'no_refresh_token',
        'the client asked for refresh_token but got none',
      );
    const refreshed = await tokenRequest('refresh', entry, http, found.as, client, method, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      scope: entry.refresh.scope === 'requested' && values.scope ? values.scope : undefined,
      resource: resourceValue(entry.refresh.resource, found, mcpUrl),
    });
    toolsAfterRefresh = await listTools(entry, http, mcpUrl, refreshed.access_token);
  }
  return {
    registration: client.method,
    clientId: client.clientId,
    tokenAuth: method,
    authorizationUrl: request.url.href,
    state: request.state,
    scopeRequested: values.scope,
    grantedScope: tokens.scope,
    who,
    refreshed: wantsRefresh,
    toolsAfterRefresh,
  };
}

/** Names the connection a failure happened in, for clients that connect more than once. */
function inConnection(error: unknown, i: number, count: number): unknown {
  if (!(error instanceof FlowError) || count === 1) return error;
  const where = `connection ${i} of ${count}`;
  return new FlowError(error.step, error.status, error.error, `${error.errorDescription} (${where})`);
}

/**
 * Starts a server for the client, runs its flows and stops the server. One user's sign-ins run one after
 * the other; different users (a hosted connector's) connect at the same time, each from a browser of
 * their own, while the client's backend calls share one address.
 */
export async function drive(
  entry: CorpusEntry,
  options: { extensions?: readonly Extension[] } = {},
): Promise<DriveReport> {
  const server = await startCorpusServer({
    cimd: entry.server?.client_id_metadata_documents ?? true,
    ...options,
  });
  const http = new ClientHttp(entry);
  const count = entry.connections?.count ?? 1;
  const connection = (i: number, browser: string) =>
    runFlow(entry, server, http, browser).catch((error: unknown) => {
      throw inConnection(error, i, count);
    });
  try {
    const flows: FlowReport[] = [];
    if (entry.connections?.users === 'each') {
      const settled = await Promise.allSettled(
        Array.from({ length: count }, (_, i) => connection(i + 1, `127.0.1.${i + 1}`)),
      );
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      for (const s of settled) if (s.status === 'fulfilled') flows.push(s.value);
    } else {
      for (let i = 1; i <= count; i++) flows.push(await connection(i, '127.0.0.1'));
    }
    return {
      issuer: server.live.issuer,
      mcpUrl: server.mcpUrl,
      flows,
      sent: http.sent,
      fetched: server.fetched,
    };
  } finally {
    await server.close();
  }
}
