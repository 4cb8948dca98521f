import { createManagement, type Management } from '@portcullis/core';
import { pinUpstream } from '@portcullis/core/upstreams';
import { clientsTable, grantsTable, table } from './admin-output.js';
import { ConfigError, type GatewayConfig, loadConfig } from './config.js';
import { oidcIdentity } from './identity.js';
import { OPTIONS } from './options.js';
import { newSecret, readSecretFile, writeSecretFile } from './secret.js';
import { gatewaySigningKeys } from './signing-keys.js';
import { openStorage } from './storage.js';

/** Where admin commands write (the CLI's stdout and stderr). */
export interface AdminIO {
  out(line: string): void;
  err(line: string): void;
}

/** `portcullis admin --help`. */
export function adminHelp(): string {
  return [
    'Usage: portcullis admin <command> [arguments] [--json] [--config <file.json>]',
    '',
    'Operates a gateway through its storage: the same STORAGE_URL, secret and settings as the gateway.',
    'Revocations take effect at once on every instance sharing the storage.',
    '',
    'Commands:',
    '  list-clients                       Registered clients with their last use',
    '  list-grants [--user <id>] [--client <id>]',
    '                                     Live grants (sessions), all or of one user or client',
    '  revoke-grant <grant id>            Revoke one grant and every token issued from it',
    '  revoke-user <user id>              Revoke every grant of a user',
    '  revoke-client <client id>          Revoke every grant of a client (it may authorize again)',
    '  delete-client <client id>          Delete a registered client and revoke its grants',
    '  purge                              Delete expired records and stale index entries',
    '  rotate-secret [--status|--finish [--force]]',
    '                                     Start a secret rotation (new secret first, old kept), show',
    '                                     which secret sealed the live grants, or drop the old ones',
    '  rotate-signing-keys                Publish a new signing key now (the first one on a new store);',
    '                                     it signs after a day, the old key stays while its tokens live',
    '  config                             The effective configuration, secrets masked',
    '',
    'Flags:',
    '  --json                             Machine-readable output',
    '  -c, --config <file>                Read settings from a JSON file (as the gateway does)',
  ].join('\n');
}

interface AdminArgs {
  readonly command: string;
  readonly positional: readonly string[];
  readonly flags: ReadonlyMap<string, string | true>;
  readonly configFile?: string;
}

const VALUE_FLAGS = new Set(['--user', '--client', '--config', '-c']);

function parseAdminArgs(argv: readonly string[]): AdminArgs {
  const [command = 'help', ...rest] = argv;
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (!arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    if (VALUE_FLAGS.has(name)) {
      const value = inline ?? rest[++i];
      if (value === undefined || value === '') throw new ConfigError(`${name} needs a value`);
      flags.set(name === '-c' ? '--config' : name, value);
    } else if (['--json', '--status', '--finish', '--force', '--help', '-h'].includes(name)) {
      flags.set(name === '-h' ? '--help' : name, true);
    } else {
      throw new ConfigError(`unknown flag ${JSON.stringify(name)} (see portcullis admin --help)`);
    }
  }
  const configFile = flags.get('--config');
  return { command, positional, flags, ...(typeof configFile === 'string' ? { configFile } : {}) };
}

/** The secrets the gateways use: the configured ones, or the data directory's file (never a new one). */
async function gatewaySecrets(config: GatewayConfig): Promise<{ secrets: string[]; fromFile: boolean }> {
  if (config.secret && config.secret.length > 0) return { secrets: [...config.secret], fromFile: false };
  const secrets = await readSecretFile(config.dataDir);
  if (!secrets) {
    throw new ConfigError(
      `no secret: set PORTCULLIS_SECRET or run from where ${config.dataDir}/secret is (the gateway's data directory)`,
    );
  }
  return { secrets, fromFile: true };
}

/** What an admin command runs against: the gateway's storage and secrets, as management. */
async function open(config: GatewayConfig, secrets: readonly string[]) {
  const { storage } = await openStorage(config.storageUrl, config.storagePrefix);
  // The upstream only matters for revoking IdP tokens; a PIN upstream needs no PIN to revoke.
  const upstream =
    config.identity === 'oidc'
      ? oidcIdentity(config)
      : pinUpstream({ pin: config.pin ?? 'unused-admin-pin' });
  const management = createManagement({
    issuer: config.issuer,
    storage,
    upstream,
    secret: [...secrets],
    storageTimeoutMs: config.storageTimeoutMs,
    lifetimes: { refreshToken: config.refreshTokenTtl },
    ...(config.unusedClientTtl !== undefined
      ? { registration: { unusedClientLifetime: config.unusedClientTtl } }
      : {}),
  });
  return { management, storage, close: () => storage.close?.() };
}

function required(args: AdminArgs, what: string): string {
  const value = args.positional[0];
  if (!value) throw new ConfigError(`${args.command} needs ${what}`);
  return value;
}

/** The settings as configured, every secret masked (never printed, not even in part). */
function maskedSettings(config: GatewayConfig): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    const value = (config as unknown as Record<string, unknown>)[option.key];
    if (value === undefined) continue;
    const empty = Array.isArray(value) && value.length === 0;
    shown[option.key] = option.secret && !empty ? '********' : value;
  }
  return shown;
}

async function rotateSecret(
  args: AdminArgs,
  config: GatewayConfig,
  management: Management,
  fromFile: boolean,
  secrets: readonly string[],
  io: AdminIO,
  json: boolean,
): Promise<number> {
  const status = await management.secretStatus();
  if (args.flags.has('--status')) {
    if (json) io.out(JSON.stringify(status));
    else {
      io.out(
        table(
          ['KEY ID', 'CURRENT', 'LIVE GRANTS'],
          status.keys.map((k) => [k.keyId, k.current ? 'yes' : '', String(k.grants)]),
        ),
      );
      io.out(
        status.previousSecretsUnused
          ? 'No live grant needs a previous secret: `rotate-secret --finish` may drop them.'
          : 'Live grants still need a previous secret: keep it until they expire or are refreshed.',
      );
    }
    return 0;
  }
  if (!fromFile) {
    io.err(
      'portcullis: the secret comes from PORTCULLIS_SECRET (or the config file): generate a new one (e.g. `openssl rand -base64 48`), deploy every instance with PORTCULLIS_SECRET=<new>,<old>, then after REFRESH_TOKEN_TTL check `portcullis admin rotate-secret --status` and deploy with <new> alone (docs/upgrading.md)',
    );
    return 2;
  }
  if (args.flags.has('--finish')) {
    if (secrets.length < 2) {
      io.out(
        json
          ? JSON.stringify({ finished: false, reason: 'no previous secret' })
          : 'Nothing to finish: only one secret is configured.',
      );
      return 0;
    }
    if (!status.previousSecretsUnused && !args.flags.has('--force')) {
      const waiting = status.keys.slice(1).reduce((n, k) => n + k.grants, 0);
      io.err(
        `portcullis: ${waiting} live grant(s) still need a previous secret; their sessions would end (use --force to drop it anyway)`,
      );
      return 1;
    }
    const path = await writeSecretFile(config.dataDir, secrets.slice(0, 1));
    io.out(
      json
        ? JSON.stringify({ finished: true, file: path })
        : `Previous secrets dropped from ${path}. Restart every gateway instance.`,
    );
    return 0;
  }
  const path = await writeSecretFile(config.dataDir, [newSecret(), ...secrets]);
  io.out(
    json
      ? JSON.stringify({ rotated: true, file: path, secrets: secrets.length + 1 })
      : `A new secret now comes first in ${path}; the previous one(s) still open existing grants.\nRestart every gateway instance; after REFRESH_TOKEN_TTL run \`portcullis admin rotate-secret --status\`, then \`--finish\`.`,
  );
  return 0;
}

/**
 * Runs `portcullis admin …`: loads the gateway's configuration (environment and `--config`), opens its
 * storage and runs one management command; prints a table, or JSON with `--json`. Never prints a
 * secret, token, code or PIN. Resolves to the exit code (2 for usage and configuration errors).
 */
export async function runAdmin(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: AdminIO,
): Promise<number> {
  const args = parseAdminArgs(argv);
  if (
    args.command === 'help' ||
    args.command === '--help' ||
    args.command === '-h' ||
    args.flags.has('--help')
  ) {
    io.out(adminHelp());
    return 0;
  }
  const config = loadConfig({ env, ...(args.configFile ? { configFile: args.configFile } : {}) });
  const json = args.flags.has('--json');
  const { secrets, fromFile } = await gatewaySecrets(config);
  const { management, storage, close } = await open(config, secrets);
  const print = (value: unknown, text: string) => io.out(json ? JSON.stringify(value) : text);
  try {
    switch (args.command) {
      case 'list-clients': {
        const clients = await management.clients();
        print(clients, clientsTable(clients));
        return 0;
      }
      case 'list-grants': {
        const user = args.flags.get('--user');
        const client = args.flags.get('--client');
        const grants = await management.grants({
          ...(typeof user === 'string' ? { userId: user } : {}),
          ...(typeof client === 'string' ? { clientId: client } : {}),
        });
        print(grants, grantsTable(grants));
        return 0;
      }
      case 'revoke-grant': {
        const revoked = await management.revokeGrant(required(args, 'a grant id'));
        print({ revoked: revoked ? 1 : 0 }, revoked ? 'Revoked 1 grant.' : 'No such live grant.');
        return revoked ? 0 : 1;
      }
      case 'revoke-user': {
        const revoked = await management.revokeUser(required(args, 'a user id'));
        print({ revoked }, `Revoked ${revoked} grant(s) of the user.`);
        return 0;
      }
      case 'revoke-client': {
        const revoked = await management.revokeClient(required(args, 'a client id'));
        print({ revoked }, `Revoked ${revoked} grant(s) of the client.`);
        return 0;
      }
      case 'delete-client': {
        const result = await management.deleteClient(required(args, 'a client id'));
        print(
          result,
          result.deleted
            ? `Deleted the client and revoked ${result.grantsRevoked} grant(s).`
            : `No such registered client (revoked ${result.grantsRevoked} grant(s)).`,
        );
        return result.deleted ? 0 : 1;
      }
      case 'purge': {
        const result = await management.purge();
        print(
          result,
          `Removed ${result.expired ?? 0} expired record(s) and ${result.danglingIndexEntries} stale index entr(ies).`,
        );
        return 0;
      }
      case 'rotate-secret':
        return await rotateSecret(args, config, management, fromFile, secrets, io, json);
      case 'rotate-signing-keys': {
        const keys = gatewaySigningKeys(storage, secrets);
        await keys.rotate();
        const published = (await keys.jwks()).keys.map((key) => key.kid ?? '');
        const signing = (await keys.current()).kid;
        print(
          { rotated: true, signing, published },
          `Published ${published.length} key(s); ${signing} signs until its successor takes over (after the publish-ahead time).`,
        );
        return 0;
      }
      case 'config': {
        const view = { settings: maskedSettings(config), effective: await management.configuration() };
        print(view, JSON.stringify(view, null, 2));
        return 0;
      }
      default:
        throw new ConfigError(
          `unknown admin command ${JSON.stringify(args.command)} (see portcullis admin --help)`,
        );
    }
  } finally {
    await close();
  }
}
