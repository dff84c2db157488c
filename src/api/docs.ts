import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STANDALONE = join('node_modules', '@scalar', 'api-reference', 'dist', 'browser', 'standalone.js');

/**
 * Scalar's browser bundle from node_modules (`@scalar/api-reference`), so /docs works offline and
 * never loads code from a CDN. Looked up from this file and from the working directory upwards;
 * undefined when the package is not installed.
 */
export function findScalarBundle(): string | undefined {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let dir = start;
    for (;;) {
      const candidate = join(dir, STANDALONE);
      if (existsSync(candidate)) return candidate;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}

let cached: Buffer | null | undefined;

/** The bundle's bytes (read once), or null when it is not installed. */
export function scalarBundle(): Buffer | null {
  if (cached === undefined) {
    const path = findScalarBundle();
    cached = path ? readFileSync(path) : null;
  }
  return cached;
}
