/** The matrix stays honest: docs/conformance.md shows the registry, and every tested requirement has its test. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AREAS, REQUIREMENTS } from './requirements.js';
import { DOC_PATH, renderTable, tableInDoc } from './table.js';

const source = (file: string) => readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');

describe('conformance matrix bookkeeping', () => {
  it('docs/conformance.md carries the table generated from the registry (npx tsx test/conformance/matrix/table.ts --write)', () => {
    expect(tableInDoc(readFileSync(DOC_PATH, 'utf8'))).toBe(renderTable());
  });

  it('every requirement is declared once, and every tested one is tested once in its area file', () => {
    const ids = REQUIREMENTS.map((r) => r.id);
    expect(ids).toEqual([...new Set(ids)]);
    const calls = new Map<string, string[]>();
    for (const file of Object.values(AREAS))
      for (const m of source(file).matchAll(/requirement\('([A-Z0-9-]+)'/g))
        calls.set(m[1]!, [...(calls.get(m[1]!) ?? []), file]);
    for (const r of REQUIREMENTS)
      expect(calls.get(r.id), r.id).toEqual(r.untested ? undefined : [AREAS[r.area]]);
    for (const id of calls.keys()) expect(ids).toContain(id);
  });
});
