#!/usr/bin/env node
/**
 * The `portcullis` command: a complete OAuth 2.1 gateway in front of an MCP server, configured from
 * environment variables or `--config file.json`. Run `portcullis --help` for every option.
 * @module
 */
import { runCli } from './cli/main.js';

const io = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

const result = await runCli(process.argv.slice(2), process.env, io);
if ('exitCode' in result) {
  process.exitCode = result.exitCode;
} else {
  const { gateway } = result;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    io.out(`Received ${signal}, shutting down…`);
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
