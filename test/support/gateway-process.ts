/**
 * Runs a real Portcullis gateway in a separate Node process (from the TypeScript sources, through tsx
 * and the workspace tsconfig paths), so fault and multi-process tests observe what a production process
 * does: whether it exits, how its heap grows, how long its answers take.
 *
 * The gateway (test/support/gateway-child.ts) is built from the library API: `createAuthorizationServer`
 * with the PIN upstream, `serve` from `@portcullis/adapter-node`, a protected `/mcp` route behind
 * `authenticate`, and `postgresStorage` or `redisStorage` on the URL given (point it at a
 * {@link FaultProxy} to inject faults).
 *
 * @example
 * ```ts
 * const gateway = await startGatewayProcess({
 *   storage: { kind: 'postgres', url: `postgres://postgres@127.0.0.1:${proxy.port}/test`, prefix: 'pt_x_' },
 *   storageTimeoutMs: 2000,
 * });
 * const response = await fetch(`${gateway.url}/.well-known/oauth-authorization-server`);
 * const { heapUsed } = await gateway.heap();
 * await gateway.stop();
 * ```
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const child = fileURLToPath(new URL('./gateway-child.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));

/** The store a child gateway runs on. `options` are passed to the storage factory as they are. */
export type GatewayStorageSpec =
  | {
      readonly kind: 'postgres';
      /** A `postgres://` URL (the storage opens and owns its pool). */
      readonly url: string;
      /** Table prefix, unique per test run. */
      readonly prefix: string;
      /** Extra `PostgresStorageOptions` (timeouts, pool size…). */
      readonly options?: Readonly<Record<string, unknown>>;
    }
  | {
      readonly kind: 'redis';
      /** A `redis://` URL (the storage opens and owns its client). */
      readonly url: string;
      /** Key prefix, unique per test run. */
      readonly prefix: string;
      /** Extra `RedisStorageOptions` (timeouts…). */
      readonly options?: Readonly<Record<string, unknown>>;
    };

/** What the child gateway is built from. */
export interface GatewaySpec {
  readonly storage: GatewayStorageSpec;
  /** The core's `storageTimeoutMs`; default the core's (8000). */
  readonly storageTimeoutMs?: number;
  /** PIN of the PIN upstream. */
  readonly pin: string;
  /** The server secret (32+ characters). */
  readonly secret: string;
}

/** Messages from the parent to the child. */
export type GatewayParentMessage =
  | { readonly type: 'heap'; readonly id: number; readonly snapshot?: string }
  | { readonly type: 'stop' };

/** Messages from the child to the parent. */
export type GatewayChildMessage =
  | { readonly type: 'listening'; readonly url: string }
  | {
      readonly type: 'heap';
      readonly id: number;
      readonly heapUsed: number;
      readonly data: number;
      readonly rss: number;
      readonly external: number;
    };

/** Memory of the child after full garbage collections, in bytes. */
export interface HeapReport {
  /** `process.memoryUsage().heapUsed`: every V8 heap space, compiled code included. */
  readonly heapUsed: number;
  /**
   * The V8 heap without its code spaces: the objects the program holds. Compiled code grows for a
   * while as V8 optimises hot paths; a leak grows this.
   */
  readonly data: number;
  readonly rss: number;
  readonly external: number;
}

/** How the child ended. */
export interface GatewayExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running child gateway. */
export interface GatewayProcess {
  /** Origin (and issuer) of the gateway, `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number;
  /** `true` until the process exits. */
  alive(): boolean;
  /** Settles when the process exits (never rejects). */
  readonly exited: Promise<GatewayExit>;
  /** Everything the child wrote to stderr (and stdout) so far. */
  output(): string;
  /**
   * Heap of the child after `gc()` (the child runs with `--expose-gc`); with `snapshot`, the child also
   * writes a V8 heap snapshot to that path (for finding what grows).
   */
  heap(snapshot?: string): Promise<HeapReport>;
  /** Asks the child to shut down gracefully, killing it after `timeoutMs` (default 3000). */
  stop(timeoutMs?: number): Promise<GatewayExit>;
}

/** Defaults for {@link GatewaySpec}'s PIN and secret. */
export const GATEWAY_PIN = '4815162342';
export const GATEWAY_SECRET = 'gateway-process-secret-0123456789-abcdefghij';

/**
 * Starts a child gateway and resolves once it listens (rejects if it exits first or takes longer than
 * `startTimeoutMs`, default 20 s). The child runs with `--expose-gc` and a bounded heap.
 */
export async function startGatewayProcess(
  spec: Omit<GatewaySpec, 'pin' | 'secret'> & Partial<Pick<GatewaySpec, 'pin' | 'secret'>>,
  options: {
    readonly startTimeoutMs?: number;
    /** Extra Node flags for the child, e.g. `['--cpu-prof']`. */
    readonly execArgv?: readonly string[];
  } = {},
): Promise<GatewayProcess> {
  const full: GatewaySpec = { pin: GATEWAY_PIN, secret: GATEWAY_SECRET, ...spec };
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=256', ...(options.execArgv ?? []), '--import', tsx, child],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        TSX_TSCONFIG_PATH: `${root}tsconfig.json`,
        PORTCULLIS_GATEWAY_SPEC: JSON.stringify(full),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  let output = '';
  const collect = (chunk: string) => {
    output += chunk;
  };
  proc.stdout?.setEncoding('utf8').on('data', collect);
  proc.stderr?.setEncoding('utf8').on('data', collect);
  let running = true;
  const exited = new Promise<GatewayExit>((resolve) => {
    proc.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });

  const pending = new Map<number, (report: HeapReport) => void>();
  let listening: ((url: string) => void) | undefined;
  proc.on('message', (message: GatewayChildMessage) => {
    if (message.type === 'listening') listening?.(message.url);
    else if (message.type === 'heap') {
      const { heapUsed, data, rss, external } = message;
      pending.get(message.id)?.({ heapUsed, data, rss, external });
      pending.delete(message.id);
    }
  });

  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`gateway did not start within ${startTimeoutMs} ms: ${output}`));
    }, startTimeoutMs);
    listening = (u) => {
      clearTimeout(timer);
      resolve(u);
    };
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code ?? signal}) before listening: ${output}`));
    });
  });

  let nextId = 0;
  return {
    url,
    pid: proc.pid ?? 0,
    alive: () => running,
    exited,
    output: () => output,
    heap(snapshot) {
      if (!running) return Promise.reject(new Error(`gateway exited: ${output}`));
      const id = nextId++;
      return new Promise<HeapReport>((resolve, reject) => {
        pending.set(id, resolve);
        proc.send({ type: 'heap', id, ...(snapshot ? { snapshot } : {}) } satisfies GatewayParentMessage);
        void exited.then(() => reject(new Error(`gateway exited: ${output}`)));
      });
    },
    async stop(timeoutMs = 3000) {
      if (!running) return exited;
      proc.send({ type: 'stop' } satisfies GatewayParentMessage);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
