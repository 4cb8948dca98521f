/**
 * The user's browser on the authorization pages. Each user of a multi-user client (a hosted connector)
 * has a browser of their own, so its requests leave from a loopback address of its own (127.0.1.n): the
 * server sees them as different people, as it would in production, while the client's backend calls
 * share one address.
 */
import { request as httpRequest } from 'node:http';

/** A browser-like request from `localAddress`; redirects are returned, not followed. */
export function browserFetch(
  url: URL,
  init: { method?: string; headers?: Record<string, string>; body?: string },
  localAddress: string,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: init.method ?? 'GET', headers: init.headers ?? {}, localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers))
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
              headers.append(name, v);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers }));
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}
