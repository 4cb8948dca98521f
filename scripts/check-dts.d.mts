/** Every problem of one package folder (with `dist/` built), as readable sentences. */
export function declarationProblems(packageDir: string): string[];
