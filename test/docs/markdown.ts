import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('../..', import.meta.url));

/** A fenced code block of a Markdown file. */
export interface CodeBlock {
  /** Path of the Markdown file relative to the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The language of the fence (`ts`, `sh`, …); empty when none. */
  readonly lang: string;
  /** Attributes after the language: `title="x"` pairs and bare flags such as `run`. */
  readonly attrs: Readonly<Record<string, string | true>>;
  readonly code: string;
}

/** The Markdown files whose code blocks must all be checked: the root README, docs/*.md, core README. */
export function documentedFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', 'packages/core/README.md', ...docs].filter((file) => existsSync(join(root, file)));
}

function parseAttrs(info: string): Record<string, string | true> {
  const attrs: Record<string, string | true> = {};
  for (const match of info.matchAll(/([\w-]+)(?:="([^"]*)")?/g)) {
    const [, name, value] = match;
    if (name) attrs[name] = value ?? true;
  }
  return attrs;
}

/** Every fenced block (``` or ~~~, any length) of a Markdown file, with its info string parsed. */
export function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { fence: string; line: number; lang: string; attrs: Record<string, string | true> } | null = null;
  let body: string[] = [];
  lines.forEach((text, index) => {
    const fence = /^\s*(`{3,}|~{3,})(.*)$/.exec(text);
    if (!open) {
      if (!fence) return;
      const [, marks = '', info = ''] = fence;
      const [lang = '', ...rest] = info.trim().split(/\s+/);
      open = { fence: marks, line: index + 1, lang, attrs: parseAttrs(rest.join(' ')) };
      body = [];
    } else if (fence?.[1]?.startsWith(open.fence) && (fence[2] ?? '').trim() === '') {
      blocks.push({
        file,
        line: open.line,
        lang: open.lang,
        attrs: open.attrs,
        code: `${body.join('\n')}\n`,
      });
      open = null;
    } else {
      body.push(text);
    }
  });
  if (open) throw new Error(`${file}: unclosed code fence opened on line ${(open as { line: number }).line}`);
  return blocks;
}

/** A file-system-safe, unique name for a block's snippet file. */
export function snippetName(block: CodeBlock): string {
  return `${block.file.replace(/[^A-Za-z0-9]+/g, '_')}_L${block.line}`;
}

/** Relative links (`[text](path)`) of a Markdown file that point at files in the repository. */
export function relativeLinks(file: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  let inFence = false;
  readFileSync(join(root, file), 'utf8')
    .split('\n')
    .forEach((text, index) => {
      if (/^\s*(`{3,}|~{3,})/.test(text)) inFence = !inFence;
      if (inFence) return;
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] ?? '';
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
        links.push({ target: target.split('#')[0] ?? '', line: index + 1 });
      }
    });
  return links;
}

/** Path of `target` as linked from `file`, relative to the root. */
export function resolveLink(file: string, target: string): string {
  return relative(root, join(root, file, '..', target));
}
