#!/usr/bin/env node
// Checks examples/worker-pin-proxy the way its README tells a newcomer to use it, outside the
// repository: a copy with the packed @portcullis tarballs in place of the workspace links, `npm install`
// (Wrangler pinned in its devDependencies), `npm run size`, `wrangler deploy --dry-run --minify`
// (prints the upload and gzip size), then `npm run dev` with `.dev.vars` from `.dev.vars.example`,
// and a request to its metadata endpoint. Needs `pnpm build` first; takes a few minutes.
//   node scripts/check-worker-example.mjs [--keep] [--wrangler=3.99.0]   (another Wrangler than the pinned one)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const example = join(root, 'examples', 'worker-pin-proxy');
const work = mkdtempSync(join(tmpdir(), 'portcullis-worker-example-'));
const copy = join(work, 'worker-pin-proxy');

function sh(command, args, cwd, options = {}) {
  console.log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', ...options });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return `${result.stdout}${result.stderr}`;
}

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

try {
  // The packages the example installs, packed as npm would publish them.
  const tarballs = {};
  for (const dir of ['core', 'adapter-workers', 'storage-kv']) {
    const out = sh('pnpm', ['pack', '--pack-destination', work], join(root, 'packages', dir));
    tarballs[`@portcullis/${dir}`] = `file:${out.trim().split('\n').at(-1).trim()}`;
  }
  cpSync(example, copy, {
    recursive: true,
    filter: (path) => !/[/\\](node_modules|\.wrangler|dist)([/\\]|$)/.test(path.slice(example.length)),
  });
  const manifest = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8'));
  for (const name of Object.keys(manifest.dependencies)) manifest.dependencies[name] = tarballs[name];
  manifest.overrides = tarballs;
  const wrangler = process.argv.find((arg) => arg.startsWith('--wrangler='))?.slice('--wrangler='.length);
  if (wrangler) manifest.devDependencies.wrangler = wrangler;
  writeFileSync(join(copy, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], copy);
  console.log(sh('npx', ['wrangler', '--version'], copy).trim());
  console.log(sh('npm', ['run', '--silent', 'size'], copy).trim());
  const dryRun = sh('npx', ['wrangler', 'deploy', '--dry-run', '--minify', '--outdir', 'dist'], copy, {
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' },
  });
  console.log(dryRun.split('\n').find((line) => line.includes('Total Upload')) ?? dryRun);

  cpSync(join(copy, '.dev.vars.example'), join(copy, '.dev.vars'));
  const port = await freePort();
  console.log(`$ npm run dev -- --port ${port} --ip 127.0.0.1`);
  const dev = spawn('npm', ['run', 'dev', '--', '--port', String(port), '--ip', '127.0.0.1'], {
    cwd: copy,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  dev.stdout.on('data', (chunk) => {
    output += chunk;
  });
  dev.stderr.on('data', (chunk) => {
    output += chunk;
  });
  try {
    const deadline = Date.now() + 120_000;
    let metadata;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`);
        if (response.ok) {
          metadata = await response.json();
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    if (!metadata) throw new Error(`wrangler dev did not answer within 120 s:\n${output}`);
    console.log(
      `wrangler dev answered: issuer ${metadata.issuer}, grant types ${metadata.grant_types_supported}`,
    );
    const mcp = await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST' });
    console.log(`POST /mcp without a token: ${mcp.status} ${mcp.headers.get('www-authenticate')}`);
    if (mcp.status !== 401) throw new Error(`expected 401 from /mcp, got ${mcp.status}`);
  } finally {
    process.kill(-dev.pid, 'SIGTERM');
  }
  console.log('worker example: OK');
} finally {
  if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
