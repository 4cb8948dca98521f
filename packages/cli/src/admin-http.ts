import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Management } from '@portcullis/core';

/** The management API over HTTP, on its own listener. */
export interface AdminListener {
  readonly server: Server;
  readonly port: number;
}

const sameToken = (presented: string, expected: string) => {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  // Constant time: compare equal-length buffers only, after checking the length separately.
  return a.length === b.length && timingSafeEqual(a, b);
};

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 64 * 1024) throw new Error('body too large');
  }
  const parsed: unknown = body ? JSON.parse(body) : {};
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('not an object');
  return parsed as Record<string, unknown>;
}

const field = (body: Record<string, unknown>, name: string): string => {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw new Error(`${name} is required`);
  return value;
};

/**
 * Serves the management API on a separate listener, every request authenticated with the admin bearer
 * token (RFC 6750 §2.1; 401 `invalid_token` otherwise). Off unless `ADMIN_PORT` and `ADMIN_TOKEN` are
 * set. `GET /clients`, `GET /grants?user=&client=`, `POST /revoke-grant {grantId}`,
 * `POST /revoke-user {userId}`, `POST /revoke-client {clientId}`, `POST /delete-client {clientId}`,
 * `POST /purge`, `GET /config`.
 */
export async function serveAdmin(
  management: Management,
  options: { readonly host: string; readonly port: number; readonly token: string },
): Promise<AdminListener> {
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      res
        .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
        .end(JSON.stringify(body));
    const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined || !sameToken(token, options.token)) {
      reply(
        401,
        { error: 'invalid_token', error_description: 'The admin token is missing or invalid' },
        {
          'www-authenticate': token === undefined ? 'Bearer' : 'Bearer error="invalid_token"',
        },
      );
      return;
    }
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const route = `${req.method} ${url.pathname}`;
    const run = async (): Promise<unknown> => {
      switch (route) {
        case 'GET /clients':
          return management.clients();
        case 'GET /grants': {
          const user = url.searchParams.get('user');
          const client = url.searchParams.get('client');
          return management.grants({
            ...(user ? { userId: user } : {}),
            ...(client ? { clientId: client } : {}),
          });
        }
        case 'POST /revoke-grant':
          return { revoked: (await management.revokeGrant(field(await readJson(req), 'grantId'))) ? 1 : 0 };
        case 'POST /revoke-user':
          return { revoked: await management.revokeUser(field(await readJson(req), 'userId')) };
        case 'POST /revoke-client':
          return { revoked: await management.revokeClient(field(await readJson(req), 'clientId')) };
        case 'POST /delete-client':
          return management.deleteClient(field(await readJson(req), 'clientId'));
        case 'POST /purge':
          return management.purge();
        case 'GET /config':
          return management.configuration();
        default:
          return undefined;
      }
    };
    run().then(
      (result) =>
        result === undefined
          ? reply(404, { error: 'not_found', error_description: 'No such admin endpoint' })
          : reply(200, result),
      (error: unknown) => {
        const storage = error instanceof Error && error.name === 'StorageUnavailableError';
        reply(storage ? 503 : 400, {
          error: storage ? 'temporarily_unavailable' : 'invalid_request',
          error_description: storage ? 'The storage is unavailable; try again' : 'The request is malformed',
        });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
