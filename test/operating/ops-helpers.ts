/**
 * Helpers of the operating suites: real `portcullis` gateway processes (the CLI from source) sharing
 * one storage, `portcullis admin` runs, and the HTTP steps of a client.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliProcess, freePort, spawnCli } from '../../packages/cli/test/helpers/spawn.js';
import { send, type TimedResponse } from '../support/gateway-client.js';

export const OPS_PIN = '7391846205';
export const OPS_SECRET = 'operating-suite-secret-0123456789-abcdefghijkl';

/** A running CLI gateway: where it listens and the process. */
export interface RunningGateway {
  readonly url: string;
  readonly cli: CliProcess;
}

/** Starts one `portcullis` process; `issuer` is the shared PUBLIC_URL (defaults to its own address). */
export async function startCliGateway(
  env: Record<string, string>,
  cwd: string,
  issuer?: string,
  port?: number,
): Promise<RunningGateway & { issuer: string }> {
  const own = port ?? (await freePort());
  const publicUrl = issuer ?? `http://127.0.0.1:${own}`;
  const cli = spawnCli([], { PORT: String(own), PUBLIC_URL: publicUrl, ...env }, cwd);
  await cli.waitFor(/ready/);
  return { url: `http://127.0.0.1:${own}`, issuer: publicUrl, cli };
}

/** Runs `portcullis admin …` to its end: exit code and output. */
export async function admin(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = spawnCli(['admin', ...args], env, cwd);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** An MCP `initialize` POST with a bearer token: 200 when the token is accepted, 401 when refused. */
export function mcpInitialize(url: string, accessToken: string): Promise<TimedResponse> {
  return send(`${url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'ops-test', version: '1' },
      },
    }),
  });
}

/** A fresh working directory (the CLI's data directory lives under it). */
export function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'portcullis-ops-'));
}

/** A table prefix unique to this run, under the `ops_` prefix of this suite. */
export function opsPrefix(label: string): string {
  return `ops_${label}_${process.pid}_${Date.now().toString(36)}_`;
}
