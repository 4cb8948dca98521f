/**
 * Each package README has a "Layout" section: a short tree with one line per folder of its src/
 * (one per file when src/ has no folders), and every path the tree names exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishedPackages } from '../../scripts/docs-entrypoints.mjs';

/** The first fenced block after the README's "## Layout" heading, before the next heading. */
function layoutTree(readme: string): string | undefined {
  const section = /^## Layout\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1] ?? '';
  return /^```[^\n]*\n([\s\S]*?)^```/m.exec(section)?.[1];
}

/** The paths the tree's lines start with (`crypto/, pages/` names two), relative to src/. */
function namedPaths(tree: string): string[] {
  return tree
    .split('\n')
    .map((line) => /^\s*((?:[\w./-]+,\s*)*[\w./-]+)/.exec(line)?.[1] ?? '')
    .flatMap((column) => column.split(/,\s*/))
    .map((name) => name.replace(/^src\//, '').replace(/\/$/, ''))
    .filter((name) => name !== '' && name !== 'src');
}

describe.each(publishedPackages().map((pkg) => [pkg.manifest.name as string, pkg] as const))(
  '%s README layout',
  (_name, pkg) => {
    const readme = readFileSync(join(pkg.path, 'README.md'), 'utf8');
    const tree = layoutTree(readme) ?? '';
    const src = join(pkg.path, 'src');
    const entries = readdirSync(src, { withFileTypes: true });
    const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);

    it('has a Layout section with a tree', () => {
      expect(tree.trim().length).toBeGreaterThan(0);
    });

    it('names only paths that exist', () => {
      const missing = namedPaths(tree).filter((name) => !existsSync(join(src, name)));
      expect(missing).toEqual([]);
    });

    it('has a line for every folder of src/ (every file, when src/ has no folders)', () => {
      const named = new Set(namedPaths(tree));
      const expected = folders.length > 0 ? folders : entries.filter((e) => e.isFile()).map((e) => e.name);
      // A folder may also be named inside another line's description (`testkit/ holds …`).
      const absent = expected.filter((name) => !named.has(name) && !tree.includes(` ${name}/`));
      expect(absent).toEqual([]);
    });
  },
);
