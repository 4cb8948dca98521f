#!/usr/bin/env node
// `pnpm demo`: a zero-configuration Portcullis gateway on http://127.0.0.1:8787 (PORT overrides) with
// SQLite under .portcullis/, PIN consent and the built-in demo MCP server at /mcp. Runs the
// `portcullis` CLI from the TypeScript sources with tsx, so no build step is needed after `pnpm install`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
const cli = join(root, 'packages', 'cli', 'src', 'bin.ts');

if (!existsSync(tsx)) {
  console.error('portcullis demo: dependencies are missing; run `pnpm install` first.');
  process.exit(1);
}

const env = { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') };
env.PORT ??= '8787';
env.HOST ??= '127.0.0.1';
env.LOG_EVENTS ??= 'true';

console.log('Starting the Portcullis demo gateway (Ctrl+C to stop)…');
const child = spawn(process.execPath, ['--import', tsx, cli, ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
});

let hinted = false;
const hint = setTimeout(() => {
  if (child.exitCode !== null) return;
  hinted = true;
  const url = `http://${env.HOST}:${env.PORT}/mcp`;
  console.log(
    [
      '',
      'Try it:',
      `  npx @modelcontextprotocol/inspector            (Streamable HTTP, URL ${url})`,
      `  claude mcp add --transport http portcullis-demo ${url}`,
      'Enter the PIN above on the authorization page. State is kept in .portcullis/ (delete it to start over).',
      '',
    ].join('\n'),
  );
}, 4000);
hint.unref();

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
child.on('exit', (code, signal) => {
  clearTimeout(hint);
  if (!hinted && code !== 0 && code !== null)
    console.error('portcullis demo: the gateway did not start (see above).');
  process.exit(code ?? (signal ? 0 : 1));
});
