import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What a module says about itself in reported properties and stats. */
export interface ModuleInfo {
  readonly name: string;
  readonly version: string;
  readonly startedAtMs: number;
}

/**
 * The version in the nearest `package.json` named `name`, walking up from `fromDir`: in the image that is the
 * module's runtime package.json at /app, from a checkout `modules/<name>/package.json`. `unknown` when none.
 */
export function readModuleVersion(name: string, fromDir: string): string {
  let dir = fromDir;
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === name && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No readable package.json here: keep walking up.
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
