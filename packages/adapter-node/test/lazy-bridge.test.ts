/**
 * The lazy bridge behaves as the Web objects it stands for: NodeRequest against a real undici Request
 * over the same HTTP request, NodeResponse against undici's Response.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleNodeRequest, NodeRequest, NodeResponse, toWebRequest } from '../src/index.js';

const UndiciResponse = Object.getPrototypeOf(NodeResponse.prototype).constructor as typeof Response;

describe('NodeRequest', () => {
  let server: Server;
  let url: string;
  let inspect: (request: Request, req: IncomingMessage) => Promise<unknown> = async () => null;
  beforeAll(async () => {
    server = createServer((req, res) => {
      void handleNodeRequest(req, res, async (request) => Response.json(await inspect(request, req)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, init).then((r) => r.json() as Promise<Record<string, unknown>>);

  it('offers its head as a plain object with the values Headers gives, until headers is made', async () => {
    const PLAIN = Symbol.for('portcullis.plainHeaders');
    inspect = async (request) => {
      const before = (request as unknown as Record<symbol, Record<string, string> | undefined>)[PLAIN];
      const web = Object.fromEntries(request.headers);
      const after = (request as unknown as Record<symbol, unknown>)[PLAIN];
      return { before, web, after: after ?? null };
    };
    const seen = await call('/plain', {
      headers: [
        ['X-Dup', 'a'],
        ['x-dup', 'b'],
        ['X-Mixed-Case', 'Value Kept'],
      ],
    });
    expect(seen.before).toEqual(seen.web);
    expect((seen.web as Record<string, string>)['x-dup']).toBe('a, b');
    expect((seen.web as Record<string, string>)['x-mixed-case']).toBe('Value Kept');
    // Once `headers` exists a handler may have changed it: the plain view is gone.
    expect(seen.after).toBeNull();
  });

  it('is a Request with the same method, url and headers as the eager conversion', async () => {
    inspect = async (request, req) => {
      const eager = toWebRequest(req);
      return {
        isRequest: request instanceof Request,
        same: request.method === eager.method && request.url === eager.url,
        headers: [...request.headers].join('|') === [...eager.headers].join('|'),
        url: request.url,
      };
    };
    for (const path of ['/a/b?x=1&y=%20z', '/a/./b/../c', '/a/%2e%2e/c', "/q?it's"]) {
      const got = await call(path, { headers: { 'x-one': '1', 'x-two': 'a' } });
      expect(got).toMatchObject({ isRequest: true, same: true, headers: true });
      expect(got.url).toBe(new URL(path, url).href);
    }
  });

  it('reads the body once, like a Request (a second read is refused), and clone() after a read fails too', async () => {
    inspect = async (request) => {
      const text = await request.text();
      const again = await request.text().then(
        () => 'read twice',
        (error: Error) => error.name,
      );
      let cloned = 'cloned';
      try {
        request.clone();
      } catch (error) {
        cloned = (error as Error).name;
      }
      return { text, again, used: request.bodyUsed, cloned };
    };
    const got = await call('/', { method: 'POST', body: 'héllo' });
    expect(got).toEqual({ text: 'héllo', again: 'TypeError', used: true, cloned: 'TypeError' });
  });

  it('builds a real Request on demand for body streams and formData()', async () => {
    inspect = async (request) => {
      const form = await request.formData();
      return { a: form.get('a'), b: form.getAll('b'), cache: request.cache };
    };
    const got = await call('/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&b=2&b=3',
    });
    expect(got).toEqual({ a: '1', b: ['2', '3'], cache: 'default' });
  });

  it('aborts request.signal when the client goes away, even when first read afterwards', async () => {
    let seen: Promise<boolean> | undefined;
    const gone = new Promise<boolean>((resolve) => {
      inspect = (request) => {
        seen = new Promise((done) => {
          // The handler only looks at the signal after the client left.
          setTimeout(() => done(request.signal.aborted), 300);
        });
        void seen.then(resolve);
        return new Promise(() => undefined);
      };
    });
    const controller = new AbortController();
    const pending = fetch(`${url}/`, { signal: controller.signal }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await pending;
    await expect(gone).resolves.toBe(true);
  });

  it('reports the client IP only for requests it made', async () => {
    inspect = async (request) => ({ ip: NodeRequest.clientIp(request) ?? null });
    expect(await call('/')).toEqual({ ip: '127.0.0.1' });
    expect(NodeRequest.clientIp(new Request('http://x/'))).toBeUndefined();
  });
});

describe('NodeResponse', () => {
  it('is a Response whose members answer as undici would', async () => {
    const cases: [BodyInit | null, ResponseInit | undefined][] = [
      ['text', undefined],
      ['{"a":1}', { status: 201, headers: { 'content-type': 'application/json', 'x-a': 'b' } }],
      [new Uint8Array([1, 2, 3]), { headers: new Headers({ 'X-Mixed': 'Case' }) }],
      [null, { status: 204 }],
      ['teapot', { status: 418, statusText: 'I am a teapot' }],
    ];
    for (const [body, init] of cases) {
      const light = new NodeResponse(body, init) as unknown as Response;
      const real = new UndiciResponse(body, init);
      expect(light).toBeInstanceOf(Response);
      expect(real).toBeInstanceOf(NodeResponse);
      expect([light.status, light.statusText, light.ok, light.type, light.bodyUsed]).toEqual([
        real.status,
        real.statusText,
        real.ok,
        real.type,
        real.bodyUsed,
      ]);
      expect([...light.headers]).toEqual([...real.headers]);
      expect(await light.clone().arrayBuffer()).toEqual(await real.clone().arrayBuffer());
      expect(await light.text()).toBe(await real.text());
      expect(light.bodyUsed).toBe(real.bodyUsed);
      if (real.bodyUsed) await expect(light.text()).rejects.toThrow(TypeError);
      else expect(await light.text()).toBe('');
    }
  });

  it('Response.json sets the JSON content type and keeps a given one', async () => {
    const json = NodeResponse.json({ a: 1 }, { status: 400 });
    expect(json.status).toBe(400);
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(await json.json()).toEqual({ a: 1 });
    const typed = NodeResponse.json({}, { headers: { 'content-type': 'application/problem+json' } });
    expect(typed.headers.get('content-type')).toBe('application/problem+json');
    expect(() => NodeResponse.json(undefined)).toThrow(TypeError);
  });

  it('leaves streams and invalid init to undici, with its errors', async () => {
    const stream = new NodeResponse(new Blob(['x']).stream()) as unknown as Response;
    expect(Object.getPrototypeOf(stream)).toBe(UndiciResponse.prototype);
    expect(await stream.text()).toBe('x');
    expect(() => new NodeResponse('x', { status: 99 })).toThrow(RangeError);
    expect(() => new NodeResponse('x', { status: 204 })).toThrow(TypeError);
    expect(() => new NodeResponse('x', { headers: { 'bad name': 'v' } })).toThrow(TypeError);
  });

  it('builds its body stream only when asked, and then reads like undici', async () => {
    const light = new NodeResponse('streamed') as unknown as Response;
    expect(NodeResponse.bufferedBody(light)).toBe('streamed');
    const reader = light.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('streamed');
    expect(NodeResponse.bufferedBody(light)).toBeUndefined();
  });
});
