/**
 * Real MCP requests with the client's token over Streamable HTTP (MCP spec, Transports): `initialize`,
 * `notifications/initialized`, then `tools/call whoami` (or `tools/list` after a refresh). A refusal
 * carries the RFC 6750 §3 challenge's error.
 */
import type { CorpusEntry } from '../corpus.js';
import { readChallenge } from './discovery.js';
import { type ClientHttp, FlowError, readError } from './http.js';

/** What the server saw of the caller (the `whoami` tool). */
export interface Who {
  readonly clientId: string | null;
  readonly scopes: readonly string[];
  readonly resource: string | null;
}

/** Reads a JSON-RPC response from a JSON body or an SSE stream. */
function readRpc(body: string, id: number): Record<string, unknown> | undefined {
  const messages = body.trimStart().startsWith('{')
    ? [body]
    : body
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim());
  for (const message of messages) {
    const parsed = JSON.parse(message) as Record<string, unknown>;
    if (parsed.id === id) return parsed;
  }
  return undefined;
}

type McpStep = 'mcp' | 'mcp-after-refresh';

async function rpc(
  step: McpStep,
  http: ClientHttp,
  mcpUrl: string,
  token: string,
  protocolVersion: string | undefined,
  message: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  const response = await http.request(step, mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(protocolVersion ? { 'mcp-protocol-version': protocolVersion } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', ...message }),
  });
  const body = await response.text();
  if (response.status === 202 && !('id' in message)) return undefined;
  if (response.status !== 200) {
    const challenge = response.headers.get('www-authenticate');
    const fromBody = readError(response.status, body);
    const error = challenge ? (/error="([^"]+)"/.exec(challenge)?.[1] ?? fromBody.error) : fromBody.error;
    const scope = readChallenge(challenge)?.scope;
    throw new FlowError(
      step,
      response.status,
      error,
      `${fromBody.description}${scope ? ` (needs ${scope})` : ''}`,
    );
  }
  const reply = readRpc(body, message.id as number);
  if (!reply || reply.error)
    throw new FlowError(step, 200, 'jsonrpc_error', JSON.stringify(reply?.error ?? body));
  return reply.result as Record<string, unknown>;
}

async function initialize(
  step: McpStep,
  entry: CorpusEntry,
  http: ClientHttp,
  mcpUrl: string,
  token: string,
) {
  const result = await rpc(step, http, mcpUrl, token, undefined, {
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: entry.mcp.protocol_version,
      capabilities: {},
      clientInfo: entry.mcp.client_info,
    },
  });
  const version = String(result?.protocolVersion ?? entry.mcp.protocol_version);
  await rpc(step, http, mcpUrl, token, version, { method: 'notifications/initialized' });
  return version;
}

/** initialize, then `tools/call whoami`: who the server says the caller is. */
export async function callWhoami(
  entry: CorpusEntry,
  http: ClientHttp,
  mcpUrl: string,
  token: string,
): Promise<Who> {
  const version = await initialize('mcp', entry, http, mcpUrl, token);
  const result = await rpc('mcp', http, mcpUrl, token, version, {
    id: 2,
    method: 'tools/call',
    params: { name: 'whoami', arguments: {} },
  });
  const [first] = (result?.content ?? []) as { text?: string }[];
  return JSON.parse(first?.text ?? '{}') as Who;
}

/** initialize, then `tools/list` with a refreshed token: the tool names it sees. */
export async function listTools(entry: CorpusEntry, http: ClientHttp, mcpUrl: string, token: string) {
  const version = await initialize('mcp-after-refresh', entry, http, mcpUrl, token);
  const result = await rpc('mcp-after-refresh', http, mcpUrl, token, version, {
    id: 3,
    method: 'tools/list',
  });
  return ((result?.tools ?? []) as { name: string }[]).map((t) => t.name);
}
