#!/usr/bin/env node
// Fails when the runtime imports of packages/*/src form a cycle: modules whose evaluation order
// depends on each other. Type-only imports (`import type`, `export type`, `{ type X }` alone) are
// erased by the compiler and are not counted. Prints each cycle as a path of files. Run by `pnpm lint`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Every .ts file under `dir`, recursively. */
function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Whether an import/export statement is erased at compile time (it names types only). */
function typeOnly(statement) {
  const text = statement.trim();
  if (/^(?:import|export)\s+type\s/.test(text)) return true;
  const names = text.match(/^(?:import|export)\s*\{([^}]*)\}\s*from/);
  if (!names) return false;
  const specifiers = names[1]
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return specifiers.length > 0 && specifiers.every((name) => name.startsWith('type '));
}

/** The files a module imports or re-exports from, by relative specifier (`./x.js` → `./x.ts`). */
function importsOf(file) {
  const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const targets = new Set();
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|import\s*\(\s*['"](\.[^'"]+)['"]\s*\)|^\s*import\s*['"](\.[^'"]+)['"]/gm;
  for (const match of code.matchAll(pattern)) {
    if (typeOnly(match[0])) continue;
    const specifier = match[1] ?? match[2] ?? match[3];
    const base = resolve(dirname(file), specifier);
    const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
    const target = candidates.find((candidate) => existsSync(candidate));
    if (target) targets.add(target);
  }
  return [...targets];
}

/** Strongly connected components with more than one file (or a file importing itself), by Tarjan. */
export function cycles(graph) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (node) => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node), index.get(next)));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** One concrete loop through a component, for the message: a → b → … → a. */
function loopThrough(graph, component) {
  const members = new Set(component);
  const start = component.slice().sort()[0];
  const path = [start];
  const seen = new Set([start]);
  const walk = (node) => {
    for (const next of graph.get(node) ?? []) {
      if (next === start) return true;
      if (!members.has(next) || seen.has(next)) continue;
      seen.add(next);
      path.push(next);
      if (walk(next)) return true;
      path.pop();
    }
    return false;
  };
  walk(start);
  return [...path, start];
}

const packagesDir = join(root, 'packages');
const graph = new Map();
for (const pkg of readdirSync(packagesDir)) {
  const src = join(packagesDir, pkg, 'src');
  if (!existsSync(src)) continue;
  for (const file of sources(src)) graph.set(file, importsOf(file));
}
const found = cycles(graph);
for (const component of found) {
  console.error(
    `import cycle (${component.length} modules in it: ${component.map((f) => relative(root, f)).join(', ')}): ${loopThrough(
      graph,
      component,
    )
      .map((f) => relative(root, f))
      .join(' → ')}`,
  );
}
if (found.length > 0) process.exit(1);
console.log(`check-cycles: ${graph.size} modules in packages/*/src, no import cycle`);
