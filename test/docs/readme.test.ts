/**
 * The README and guides stay true to the repository: the two set-up commands, links that resolve,
 * a package table that lists every published package, and an API reference that builds without warnings.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryPoints, publishedPackages } from '../../scripts/docs-entrypoints.mjs';
import { codeBlocks, documentedFiles, relativeLinks, resolveLink, root } from './markdown.js';

const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(join(root, file), 'utf8');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1] ?? '')));
}

describe('README', () => {
  it('has a "Set up" section with exactly the two commands CI and newcomers run', () => {
    const section = /^## Set up\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
    const commands = codeBlocks('README.md')
      .filter((block) => block.lang === 'sh' && section.includes(block.code.trim()))
      .map((block) => block.code.trim());
    expect(commands).toEqual(['pnpm install && pnpm demo', 'pnpm install && pnpm test']);
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.demo).toBeDefined();
    expect(manifest.scripts.test).toBeDefined();
  });

  it('links the example of each of the three scenarios', () => {
    for (const example of ['worker-pin-proxy', 'node-oidc-gateway', 'resource-server-only']) {
      expect(readme).toContain(`](examples/${example})`);
    }
  });

  it('lists every published package in the packages table', () => {
    for (const pkg of publishedPackages()) {
      expect(readme).toContain(`[\`${pkg.manifest.name}\`](packages/${pkg.dir})`);
    }
  });

  it('links every guide in docs/', () => {
    for (const file of documentedFiles().filter((f) => f.startsWith('docs/') && f !== 'docs/api-index.md')) {
      expect(readme).toContain(`](${file})`);
    }
  });
});

describe('links in README.md and docs/*.md', () => {
  const links = documentedFiles().flatMap((file) =>
    relativeLinks(file).map((link) => ({ file, ...link, path: resolveLink(file, link.target) })),
  );

  it('finds links to check', () => {
    expect(links.length).toBeGreaterThan(10);
  });

  it.each(links.map((l) => [`${l.file}:${l.line} → ${l.target}`, l] as const))(
    '%s resolves',
    (_name, link) => {
      expect(existsSync(join(root, link.path)), `${link.path} does not exist`).toBe(true);
    },
  );

  it('points anchors at headings that exist', () => {
    const broken: string[] = [];
    for (const file of documentedFiles()) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const match of text.matchAll(/\]\(([^)\s#]*)#([^)\s]+)\)/g)) {
        const [, target = '', anchor = ''] = match;
        if (/^[a-z]+:/i.test(target)) continue;
        const doc = target === '' ? file : resolveLink(file, target);
        if (!doc.endsWith('.md')) continue;
        if (!anchorsOf(doc).has(anchor)) broken.push(`${file}: ${target}#${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('API reference (pnpm run docs)', () => {
  it('maps every package export to a TypeScript entry point', () => {
    const specifiers = entryPoints().map((e) => e.specifier);
    expect(specifiers).toEqual(
      expect.arrayContaining([
        '@portcullis/core',
        '@portcullis/core/mcp',
        '@portcullis/core/upstreams',
        '@portcullis/core/testkit',
        '@portcullis/storage-sql',
        '@portcullis/storage-kv',
        '@portcullis/adapter-node',
        '@portcullis/adapter-workers',
      ]),
    );
  });

  it('builds with TypeDoc without a warning, one module per import path', () => {
    const out = mkdtempSync(join(tmpdir(), 'portcullis-api-'));
    try {
      const run = spawnSync(
        process.execPath,
        [
          join(root, 'scripts', 'docs-build.mjs'),
          '--json',
          join(out, 'api.json'),
          '--out',
          join(out, 'html'),
        ],
        { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
      );
      const output = `${run.stdout}\n${run.stderr}`;
      expect(output).not.toContain('[warning]');
      expect(output).not.toContain('[error]');
      expect(run.status).toBe(0);
      const api = JSON.parse(readFileSync(join(out, 'api.json'), 'utf8')) as { children: { name: string }[] };
      expect(api.children.map((c) => c.name).sort()).toEqual(
        entryPoints()
          .map((e) => e.specifier)
          .sort(),
      );
      expect(existsSync(join(out, 'html', 'index.html'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
