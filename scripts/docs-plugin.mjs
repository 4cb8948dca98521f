// TypeDoc plugin (loaded from typedoc.json): names each entry-point module after the import specifier
// users write (`@portcullis/core/mcp`) instead of its source path (`core/src/mcp`).
import { realpathSync } from 'node:fs';
import { Converter, ReflectionKind } from 'typedoc';
import { entryPoints } from './docs-entrypoints.mjs';

const normalize = (path) => realpathSync(path).split('\\').join('/');

/** @param {import('typedoc').Application} app */
export function load(app) {
  const bySource = new Map(entryPoints().map((entry) => [normalize(entry.source), entry.specifier]));
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const project = context.project;
    for (const module of project.getReflectionsByKind(ReflectionKind.Module)) {
      const file = project.getSymbolIdFromReflection(module)?.fileName ?? module.sources?.[0]?.fullFileName;
      const specifier = file ? bySource.get(normalize(file)) : undefined;
      if (specifier) module.name = specifier;
      else app.logger.warn(`docs-plugin: no package export matches the module "${module.name}" (${file})`);
    }
  });
}
