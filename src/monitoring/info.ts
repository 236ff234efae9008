import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's own name and version. */
export interface PackageInfo {
  name: string;
  version: string;
}

const PACKAGE_NAME = '@revcopy/enterprise';
let cached: PackageInfo | undefined;

/**
 * @internal This package's name and version, read from its package.json: found by walking up from
 * this file, which works from `src/` (tests, tsx), from `dist/` in ESM and in CJS (tsup shims
 * `import.meta.url`), and from any chunk file the bundler split the code into. Read once, on first
 * use (never at import); `version: 'unknown'` if the file cannot be found.
 */
export function packageInfo(): PackageInfo {
  if (cached !== undefined) return cached;
  cached = { name: PACKAGE_NAME, version: 'unknown' };
  try {
    let directory = dirname(fileURLToPath(import.meta.url));
    for (let depth = 0; depth < 6; depth++) {
      try {
        const json = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {
          name?: unknown;
          version?: unknown;
        };
        if (json.name === PACKAGE_NAME && typeof json.version === 'string') {
          cached = { name: PACKAGE_NAME, version: json.version };
          break;
        }
      } catch {
        // No package.json here (or not ours): look one level up.
      }
      const parent = dirname(directory);
      if (parent === directory) break;
      directory = parent;
    }
  } catch {
    // import.meta.url is not a file URL (a bundle loaded from memory): the version stays unknown.
  }
  return cached;
}
