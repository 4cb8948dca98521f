/** The test side of the matrix: one `describe` per requirement, one test per revision it applies to. */
import { describe, it } from 'vitest';
import {
  AREAS,
  type Area,
  REQUIREMENTS_BY_ID,
  type Revision,
  revisionsOf,
  sectionIn,
  testName,
} from './requirements.js';

/** What a requirement test receives: the revision whose client it plays. */
export interface RevisionContext {
  readonly revision: Revision;
}

/**
 * The `requirement(id, test)` function of one area: registers a `describe` named after the
 * requirement, with one test per revision it applies to, each named with its revision, level and
 * section.
 */
export function requirementsOf(area: Area) {
  return function requirement(id: string, run: (ctx: RevisionContext) => Promise<void>): void {
    const found = REQUIREMENTS_BY_ID.get(id);
    if (!found) throw new Error(`unknown requirement ${id}`);
    if (found.area !== area) throw new Error(`${id} belongs to ${AREAS[found.area]}`);
    if (found.untested) throw new Error(`${id} is declared untested: ${found.untested}`);
    describe(testName(found), () => {
      for (const revision of revisionsOf(found)) {
        it(`MCP ${revision} · ${found.level} · ${sectionIn(found, revision)}`, () => run({ revision }));
      }
    });
  };
}
