/**
 * Starts the benchmark servers as child processes (so the load generator never shares their event
 * loop) and stops them: on `stopAll()`, on process exit, and on SIGINT/SIGTERM. Each child also exits
 * by itself when its stdin closes, which covers the parent dying abruptly.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const loader = import.meta.resolve('./loader.mjs');
const children = new Set();

const READY_TIMEOUT_MS = 60_000;

/**
 * Starts `bench/servers/<name>.mjs` under the sources loader (`loader.mjs`) with `env`; resolves `{ name, url, child }` once it
 * announced its port (`nodeArgs` go to node, e.g. `--cpu-prof`), rejects if it exits or stays silent for 60 s.
 */
export function startServer(name, env = {}, nodeArgs = []) {
  const file = fileURLToPath(new URL(`../servers/${name}.mjs`, import.meta.url));
  const child = spawn(process.execPath, [...nodeArgs, '--import', loader, file], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: not ready after ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        process.stderr.write(`[${name}] ${line}\n`);
        return;
      }
      if (message?.ready) {
        clearTimeout(timer);
        resolve({ name, url: `http://127.0.0.1:${message.port}`, child });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited before it was ready (code ${code}, signal ${signal})`));
    });
  });
}

/** Stops every child still running: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopAll(graceMs = 3000) {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          child.stdin.end();
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** Synchronous last resort on exit: SIGKILL whatever is left. */
function killAll() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}

process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the benchmark servers\n`);
    stopAll(1000).finally(() => process.exit(130));
  });
}
