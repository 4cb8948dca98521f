/**
 * Shared plumbing of the benchmark servers: every server runs in its own child process of
 * `bench/run.mjs`, listens on 127.0.0.1 on a free port, announces it on stdout as one JSON line, and
 * exits when the parent goes away (its stdin closes) or sends SIGTERM/SIGINT.
 */

/** The JSON-RPC answer every no-op endpoint returns (a `ping` result). */
export const RESULT = JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} });

/** The static credential the proxies send upstream; the upstream refuses `/mcp` without it. */
export const UPSTREAM_TOKEN = 'bench-upstream-static-token';

/** Reads a Node request body to the end (the no-op handlers consume what they are sent). */
export function drain(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Listens on 127.0.0.1:0 and resolves the bound port. */
export function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

/**
 * Tells the parent the server is ready, and arranges for this process to end with its parent:
 * on stdin end (the parent exited, even by SIGKILL) or on SIGTERM/SIGINT, `cleanup` runs, then exit.
 */
export function announce(port, cleanup = async () => {}) {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    try {
      await cleanup();
    } finally {
      process.exit(0);
    }
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
}
