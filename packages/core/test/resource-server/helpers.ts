import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

/** A node:http server on 127.0.0.1 with a random port. */
export interface LocalServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Starts a node:http server on a free loopback port. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<LocalServer> {
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a node request body as text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A signing key served as a JWKS over node:http, and a helper to sign JWTs with it. */
export interface LocalIssuer extends LocalServer {
  readonly jwksUrl: string;
  readonly jwksRequests: () => number;
  sign(claims: JWTPayload, options?: { typ?: string; expiresIn?: number; kid?: string }): Promise<string>;
}

/** Generates a key pair (ES256 by default) and serves its public key as a JWKS at `/jwks`. */
export async function startIssuer(path = '/jwks', alg: 'ES256' | 'RS256' = 'ES256'): Promise<LocalIssuer> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg, use: 'sig' };
  let requests = 0;
  const server = await startServer((req, res) => {
    if (req.url === path) {
      requests++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  return {
    ...server,
    jwksUrl: `${server.url}${path}`,
    jwksRequests: () => requests,
    async sign(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iat: now, exp: now + (options.expiresIn ?? 300), ...claims })
        .setProtectedHeader({ alg, kid: options.kid ?? 'k1', typ: options.typ ?? 'at+jwt' })
        .sign(privateKey);
    },
  };
}
