import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/**
 * The project's version: the nearest package.json above this file (the repository, or /app in an image) that
 * has one; "unknown" when there is none.
 */
export function projectVersion(): string {
  if (cached !== undefined) return cached;
  let dir = __dirname;
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
      if (typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // No package.json here (or unreadable): look further up.
    }
    const up = dirname(dir);
    if (up === dir) return (cached = 'unknown');
    dir = up;
  }
}
