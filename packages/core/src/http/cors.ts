/** CORS headers for endpoints browser-based clients call directly (metadata, register, token, revoke). */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
  // RFC 9449 §4.1, §8: browser clients send DPoP proofs and read the server's nonce.
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, MCP-Protocol-Version, DPoP',
  'Access-Control-Expose-Headers': 'WWW-Authenticate, DPoP-Nonce',
  'Access-Control-Max-Age': '86400',
};

/** Returns a copy of `response` with extra headers (existing ones are kept). */
export function withHeaders(response: Response, headers: Readonly<Record<string, string>>): Response {
  const out = new Response(response.body, response);
  for (const [name, value] of Object.entries(headers)) {
    if (!out.headers.has(name)) out.headers.set(name, value);
  }
  return out;
}

// Browser-based MCP clients (e.g. MCP Inspector) call the protected resource cross-origin with a bearer
// token, never cookies, so allowing any origin grants nothing a script could not already do.
const RESOURCE_CORS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, DPoP-Nonce',
};

const RESOURCE_PREFLIGHT: Readonly<Record<string, string>> = {
  ...RESOURCE_CORS,
  'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
  'Access-Control-Allow-Headers':
    'Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID, DPoP',
  'Access-Control-Max-Age': '86400',
};

/**
 * Wraps the handler of a protected MCP resource so browser-based clients can call it: CORS preflights
 * are answered, and every response (401 challenges included) exposes `WWW-Authenticate` and
 * `Mcp-Session-Id`.
 *
 * @example
 * ```ts
 * const handler = withResourceCors(protectMcpServer({ authenticator: as, server: () => makeServer() }));
 * ```
 */
export function withResourceCors(
  handler: (request: Request) => Promise<Response>,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: RESOURCE_PREFLIGHT });
    const response = await handler(request);
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(RESOURCE_CORS)) headers.set(name, value);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}
