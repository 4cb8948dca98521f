#!/usr/bin/env node
/**
 * `node bench/hotpath.mjs`: the in-process cost of each step of bearer-token validation
 * (`authenticate` on MemoryStorage), to attribute the HTTP numbers of `pnpm bench`. Bounded: 5 min.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const result = spawnSync(
  process.execPath,
  [
    '--import',
    import.meta.resolve('./lib/loader.mjs'),
    fileURLToPath(new URL('./lib/hotpath-worker.mjs', import.meta.url)),
  ],
  {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: 'inherit',
    timeout: 300_000,
    killSignal: 'SIGKILL',
  },
);
process.exit(result.status ?? 1);
