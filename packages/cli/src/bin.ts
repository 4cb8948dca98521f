#!/usr/bin/env node
/**
 * The `portcullis` command: a complete OAuth 2.1 gateway in front of an MCP server, configured from
 * environment variables or `--config file.json`. Run `portcullis --help` for every option.
 * @module
 */
import type { Gateway } from './gateway.js';
import { runCli } from './main.js';

const io = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

let gateway: Gateway | undefined;
let stopping = false;
function shutdown(): void {
  if (!gateway) return; // still starting: shut down as soon as the gateway is up
  gateway.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
// Installed before start-up, so a signal during start-up is not lost.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // a second signal: stop now
    stopping = true;
    io.out(`Received ${signal}, shutting down…`);
    shutdown();
  });
}

const result = await runCli(process.argv.slice(2), process.env, io);
if ('exitCode' in result) {
  process.exit(result.exitCode);
} else {
  gateway = result.gateway;
  if (stopping) shutdown();
}
