/**
 * mcp-remote (the stdio↔remote bridge many desktop clients use) run headlessly: it discovers,
 * registers and prints the authorization URL; the test plays the user on the PIN page and delivers the
 * redirect to mcp-remote's own loopback callback server; then an SDK client talks to the remote MCP
 * server through mcp-remote's stdio.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stream } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, MCP_REMOTE, StdioClientTransport } from '../support/deps.js';
import { LIVE_PIN, type LiveServer, startLiveServer } from '../support/live.js';
import { approveOverFetch, protectedMcp, whoami } from '../support/mcp.js';

let server: LiveServer | undefined;
let configDir: string | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close().catch(() => {});
  await server?.close();
  if (configDir) await rm(configDir, { recursive: true, force: true });
  client = server = configDir = undefined;
});

/** Resolves with the first authorization URL mcp-remote prints on stderr. */
function authorizationUrlFrom(stream: Stream, log: string[]): Promise<URL> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      log.push(chunk.toString());
      const match = /Please authorize this client by visiting:\s*(\S+)/.exec(buffer);
      if (match?.[1]) resolve(new URL(match[1]));
    });
    stream.on('end', () => reject(new Error(`mcp-remote ended without an authorization URL:\n${buffer}`)));
  });
}

describe('mcp-remote', () => {
  it('authorizes through the PIN page and proxies tools/call over stdio', { timeout: 60_000 }, async () => {
    server = await startLiveServer({ mcp: protectedMcp });
    configDir = await mkdtemp(join(tmpdir(), 'portcullis-mcp-remote-'));
    const callbackPort = 20_000 + Math.floor(Math.random() * 20_000);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, `${server.url}/mcp`, String(callbackPort), '--allow-http'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: configDir,
        MCP_REMOTE_CONFIG_DIR: configDir,
        // Keep `open` from launching a real browser: the test is the user.
        BROWSER: 'true',
        DISPLAY: '',
      },
      stderr: 'pipe',
    });
    const log: string[] = [];
    const stderr = transport.stderr;
    if (!stderr) throw new Error('no stderr stream');
    const urlPromise = authorizationUrlFrom(stderr, log);
    client = new Client({ name: 'via-mcp-remote', version: '1.0.0' });
    const connected = client.connect(transport);

    const authorizationUrl = await urlPromise;
    expect(authorizationUrl.origin).toBe(server.url);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    const landed = await approveOverFetch(authorizationUrl, LIVE_PIN);
    expect(landed.port).toBe(String(callbackPort));
    expect(landed.searchParams.get('iss')).toBe(server.url);
    // Deliver the redirect to mcp-remote's loopback callback server, as the browser would.
    const delivered = await fetch(landed);
    expect(delivered.status).toBe(200);

    await connected;
    const me = await whoami(client);
    expect(me.userId).toBe('pin-holder');
    expect(me.resource).toBe(`${server.url}/mcp`);
    expect(server.events.some((e) => e.type === 'client_registered')).toBe(true);
  });
});
