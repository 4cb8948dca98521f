import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AuditLevel, auditLevel, auditLine } from '@portcullis/core';
import { runAdmin } from './admin.js';
import { ConfigError, loadConfig } from './config.js';
import { type Gateway, startGateway } from './gateway.js';
import { helpText } from './options.js';

/** Where the CLI writes: stdout and stderr (injectable for tests). */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

/** What {@link runCli} ended with: an exit code, or a running gateway. */
export type CliResult = { readonly exitCode: number } | { readonly gateway: Gateway };

/** The version of this package, read from its package.json. */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@portcullis/cli' && pkg.version) return pkg.version;
    } catch {
      // not here; look one directory up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

type Parsed = { help: true } | { version: true } | { configFile?: string };

function parseArgs(argv: readonly string[]): Parsed {
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' || arg === '--help') return { help: true };
    if (arg === '-v' || arg === '--version') return { version: true };
    if (arg === '-c' || arg === '--config') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-')) throw new ConfigError(`${arg} needs a file path`);
      configFile = next;
      i++;
    } else if (arg.startsWith('--config=')) {
      configFile = arg.slice('--config='.length);
      if (!configFile) throw new ConfigError('--config needs a file path');
    } else {
      throw new ConfigError(`unknown argument ${JSON.stringify(arg)} (see --help)`);
    }
  }
  return configFile === undefined ? {} : { configFile };
}

function banner(gateway: Gateway): string[] {
  const lines = [
    `Portcullis gateway ${packageVersion()} ready`,
    `  MCP endpoint:  ${gateway.mcpUrl}`,
    `  Issuer:        ${gateway.issuer}`,
    `  Storage:       ${gateway.storageDescription}`,
    `  MCP server:    ${gateway.mcpTarget === 'demo' ? 'built-in demo (tools: echo, whoami, time)' : gateway.mcpTarget}`,
  ];
  if (gateway.pin !== undefined) {
    lines.push(
      gateway.pinGenerated
        ? `  PIN:           ${gateway.pin}   (generated for this run; set PORTCULLIS_PIN to choose one)`
        : '  PIN:           as configured (PORTCULLIS_PIN)',
    );
  } else {
    lines.push('  Sign-in:       OpenID Connect');
  }
  if (gateway.metricsPort !== undefined)
    lines.push(`  Metrics:       http://127.0.0.1:${gateway.metricsPort}/metrics`);
  if (gateway.adminPort !== undefined)
    lines.push(`  Admin API:     http://127.0.0.1:${gateway.adminPort} (bearer ADMIN_TOKEN)`);
  if (gateway.secretGenerated)
    lines.push('  Secret:        generated and stored with mode 0600 in the data directory');
  return lines;
}

/**
 * Runs the `portcullis` command: parses flags, loads and validates the configuration, starts the
 * gateway and prints where it listens; `portcullis admin …` runs a management command instead. A bad configuration prints one `portcullis: …` line and
 * ends with exit code 2.
 */
const RANK: Readonly<Record<AuditLevel, number>> = { info: 0, warn: 1, error: 2 };

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIO): Promise<CliResult> {
  try {
    if (argv[0] === 'admin') return { exitCode: await runAdmin(argv.slice(1), env, io) };
    const parsed = parseArgs(argv);
    if ('help' in parsed) {
      io.out(helpText());
      return { exitCode: 0 };
    }
    if ('version' in parsed) {
      io.out(packageVersion());
      return { exitCode: 0 };
    }
    const config = loadConfig({ env, ...parsed });
    const least = RANK[config.logLevel];
    const gateway = await startGateway(config, {
      // The audit log: one JSON line per event with its level; events never carry secrets.
      onEvent: config.logEvents
        ? (event) => {
            if (RANK[auditLevel(event)] >= least) io.out(auditLine(event));
          }
        : undefined,
      onError: (error) =>
        io.err(`portcullis: request failed: ${error instanceof Error ? error.name : 'error'}`),
    });
    io.out(banner(gateway).join('\n'));
    return { gateway };
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`portcullis: ${error.message}`);
      return { exitCode: 2 };
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    io.err(`portcullis: failed to start: ${message}`);
    return { exitCode: 1 };
  }
}
