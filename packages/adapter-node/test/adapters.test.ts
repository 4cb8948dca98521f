import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type FetchHandler, serve } from '../src/index.js';
import { echoServer, type Mounted, type MountKind, mount } from './helpers/mounts.js';

const KINDS: MountKind[] = ['node', 'express', 'express+parsers', 'fastify'];

let running: Mounted | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** A deferred promise. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Raw HTTP request (to send headers fetch would not let us set, like Host). */
function raw(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe.each(KINDS)('%s mount', (kind) => {
  it('streams the first SSE chunk to the client before the handler finishes', async () => {
    const firstChunkSeen = deferred();
    const handlerFinished = deferred<boolean>();
    const encoder = new TextEncoder();
    const mcp: FetchHandler = async () => {
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode('event: message\ndata: first\n\n'));
          // Only continues once the client has the first event: a buffering adapter deadlocks here.
          await firstChunkSeen.promise;
          controller.enqueue(encoder.encode('event: message\ndata: second\n\n'));
          controller.close();
          handlerFinished.resolve(true);
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    };
    running = await mount(kind, echoServer(), mcp);
    const response = await fetch(`${running.url}/mcp`, { method: 'POST', body: '{}' });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('first')) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      text += decoder.decode(value);
    }
    let finishedEarly = false;
    void handlerFinished.promise.then(() => {
      finishedEarly = true;
    });
    await Promise.resolve();
    expect(finishedEarly).toBe(false);
    expect(text).not.toContain('second');
    firstChunkSeen.resolve();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toBe('event: message\ndata: first\n\nevent: message\ndata: second\n\n');
    expect(await handlerFinished.promise).toBe(true);
  });

  it('passes JSON and form bodies through to the server, whatever parsed them first', async () => {
    running = await mount(kind, echoServer(), undefined);
    const json = await fetch(`${running.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], client_name: 'Zoë' }),
    });
    expect(json.status).toBe(200);
    const echoedJson = (await json.json()) as { body: string; url: string };
    expect(JSON.parse(echoedJson.body)).toEqual({
      redirect_uris: ['http://127.0.0.1/cb'],
      client_name: 'Zoë',
    });
    expect(echoedJson.url).toBe(`${running.url}/oauth/register`);

    const form = await fetch(`${running.url}/oauth/token?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&code=a%2Bb&scope=mcp+read',
    });
    const echoedForm = (await form.json()) as { body: string; url: string; contentType: string };
    expect(Object.fromEntries(new URLSearchParams(echoedForm.body))).toEqual({
      grant_type: 'authorization_code',
      code: 'a+b',
      scope: 'mcp read',
    });
    expect(echoedForm.url).toBe(`${running.url}/oauth/token?x=1`);
    expect(echoedForm.contentType).toBe('application/x-www-form-urlencoded');
  });

  it('refuses a body over the limit with 413 invalid_request (declared and chunked)', async () => {
    running = await mount(kind, echoServer(), undefined, { bodyLimit: 1000 });
    const declared = await fetch(`${running.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(5000),
    });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: 'invalid_request' });

    if (kind === 'express+parsers') return; // express.text() itself refuses chunked bodies over its own 100 kB
    const encoder = new TextEncoder();
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(encoder.encode('y'.repeat(300)));
        controller.close();
      },
    });
    const streamed = await fetch(`${running.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ error: 'invalid_request' });

    const small = await fetch(`${running.url}/oauth/register`, { method: 'POST', body: 'ok' });
    expect(small.status).toBe(200);
  });

  it('keeps every Set-Cookie header separate', async () => {
    const server = {
      handles: (request: Request) => new URL(request.url).pathname === '/oauth/cookies',
      fetch: async () => {
        const headers = new Headers();
        headers.append('set-cookie', 'a=1; Path=/; HttpOnly');
        headers.append('set-cookie', 'b=2; Path=/; Expires=Wed, 21 Oct 2065 07:28:00 GMT');
        return new Response('ok', { headers });
      },
    };
    running = await mount(kind, server, undefined);
    const response = await fetch(`${running.url}/oauth/cookies`);
    expect(response.headers.getSetCookie()).toEqual([
      'a=1; Path=/; HttpOnly',
      'b=2; Path=/; Expires=Wed, 21 Oct 2065 07:28:00 GMT',
    ]);
  });

  it('aborts request.signal when the client disconnects', async () => {
    const aborted = deferred<boolean>();
    const started = deferred();
    const mcp: FetchHandler = async (request) => {
      request.signal.addEventListener('abort', () => aborted.resolve(true));
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(': open\n\n'));
          started.resolve();
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    };
    running = await mount(kind, echoServer(), mcp);
    const client = new AbortController();
    const response = await fetch(`${running.url}/mcp`, { signal: client.signal });
    await response.body!.getReader().read();
    await started.promise;
    client.abort();
    expect(await aborted.promise).toBe(true);
  });

  it('takes the origin from the socket and Host unless trustProxy is on', async () => {
    running = await mount(kind, echoServer(), undefined);
    const headers = {
      host: 'gateway.internal:8080',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
    };
    const plain = await raw(running.url, { path: '/oauth/metadata', headers });
    expect(JSON.parse(plain.body).url).toBe('http://gateway.internal:8080/oauth/metadata');
    const bad = await raw(running.url, { path: '/oauth/metadata', headers: { host: 'bad host/<x>' } });
    expect(bad.status).toBe(kind === 'node' ? 400 : 404);
  });

  it('uses X-Forwarded-* or Forwarded with trustProxy, and publicUrl over both', async () => {
    running = await mount(kind, echoServer(), undefined, { trustProxy: true });
    const xf = await raw(running.url, {
      path: '/oauth/metadata',
      headers: {
        host: 'gateway.internal',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'mcp.example.com, proxy.local',
      },
    });
    expect(JSON.parse(xf.body).url).toBe('https://mcp.example.com/oauth/metadata');
    const forwarded = await raw(running.url, {
      path: '/oauth/metadata',
      headers: { host: 'gateway.internal', forwarded: 'for=1.2.3.4;proto=https;host="auth.example.org"' },
    });
    expect(JSON.parse(forwarded.body).url).toBe('https://auth.example.org/oauth/metadata');
    await running.close();

    running = await mount(kind, echoServer(), undefined, {
      trustProxy: true,
      publicUrl: 'https://public.example/',
    });
    const pinned = await raw(running.url, {
      path: '/oauth/metadata',
      headers: { host: 'gateway.internal', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
    });
    expect(JSON.parse(pinned.body).url).toBe('https://public.example/oauth/metadata');
  });

  it('turns a handler exception into a JSON 500 without details', async () => {
    const errors: unknown[] = [];
    const mcp: FetchHandler = async () => {
      throw new Error('secret detail');
    };
    running = await mount(kind, echoServer(), mcp, { onError: (error) => errors.push(error) });
    const response = await fetch(`${running.url}/mcp`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'server_error' });
    expect(text).not.toContain('secret detail');
    expect(errors).toHaveLength(1);
  });
});

describe.each(['express', 'express+parsers', 'fastify'] as const)('%s pass-through', (kind) => {
  it('leaves requests that are not ours to the application, body included', async () => {
    running = await mount(kind, echoServer(), undefined, { bodyLimit: 10 });
    const response = await fetch(`${running.url}/app`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'a body longer than the portcullis limit',
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('app:a body longer than the portcullis limit');
    const missing = await fetch(`${running.url}/nothing-here`);
    expect(missing.status).toBe(404);
  });
});

describe('serve() and graceful shutdown', () => {
  it('lets an in-flight request finish, refuses new connections, then runs onClosed', async () => {
    const release = deferred();
    const entered = deferred();
    const handler: FetchHandler = async () => {
      entered.resolve();
      await release.promise;
      return new Response('finished');
    };
    const server = await serve(handler, { port: 0 });
    const inFlight = fetch(`${server.url}/slow`);
    await entered.promise;
    let closed = false;
    const closing = server.close({
      timeoutMs: 10_000,
      onClosed: () => {
        closed = true;
      },
    });
    await expect(fetch(`${server.url}/other`)).rejects.toThrow();
    expect(closed).toBe(false);
    release.resolve();
    const response = await inFlight;
    expect(await response.text()).toBe('finished');
    await closing;
    expect(closed).toBe(true);
  });

  it('cuts streams still open after the timeout', async () => {
    const handler: FetchHandler = async () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('data: open\n\n'));
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    const server = await serve(handler, { port: 0 });
    const response = await fetch(`${server.url}/stream`);
    const reader = response.body!.getReader();
    await reader.read();
    await server.close({ timeoutMs: 50 });
    await expect(reader.read()).rejects.toThrow();
  });
});
