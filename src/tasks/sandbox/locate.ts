import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TaskSandboxFileError } from '../errors.js';

/** @internal Where the runner script is, and whether it is TypeScript source (tests, `tsx`). */
export interface RunnerLocation {
  readonly path: string;
  readonly source: boolean;
}

let located: RunnerLocation | undefined;

/**
 * @internal Finds the runner script. Built, it is `dist/tasks/sandbox-runner.{js,cjs}` and this
 * code sits in `dist/tasks/index.*` or in a chunk at `dist/`, so a few places relative to this
 * file are tried (the CommonJS build gets `import.meta.url` from tsup's shim); from source it is
 * `runner.ts` beside this file. The format of this file is preferred, the other one works too.
 */
export function locateRunner(): RunnerLocation {
  if (located !== undefined) return located;
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    located = { path: fileURLToPath(new URL('./runner.ts', here)), source: true };
    return located;
  }
  const extensions = here.endsWith('.cjs') ? ['.cjs', '.js'] : ['.js', '.cjs'];
  const tried: string[] = [];
  for (const extension of extensions) {
    for (const place of ['./tasks/', './', '../tasks/']) {
      const path = fileURLToPath(new URL(`${place}sandbox-runner${extension}`, here));
      tried.push(path);
      if (existsSync(path)) {
        located = { path, source: false };
        return located;
      }
    }
  }
  throw new TaskSandboxFileError(
    `the sandbox runner script of @revcopy/enterprise was not found (looked at ${tried.join(', ')}); the package's dist/ folder is incomplete`,
    { tried },
  );
}
