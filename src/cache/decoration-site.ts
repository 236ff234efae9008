import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where a cached function or method was declared: the code that called `Cached(...)` or
 * `cached(...)`. Its hash tells apart the default keys of functions that share a name.
 *
 * @internal
 */
export interface DecorationSite {
  /**
   * `@acme/shop/src/users.ts:12:3`: the file relative to the nearest directory above it with a
   * package.json, after that package's name when it has one, then line and column. `undefined`
   * when the code has no script name (eval, `new Function`).
   */
  readonly location: string | undefined;
  /** 8 hex digits of the SHA-256 of `location`; `undefined` with it. */
  readonly hash: string | undefined;
}

/** A site that could not be found, shared by every such decoration. */
const UNKNOWN: DecorationSite = Object.freeze({ location: undefined, hash: undefined });

/**
 * The site of the code that called `factory`, read from V8's structured stack once per decoration.
 * Never throws: a stack that cannot be read gives the unknown site.
 *
 * @internal
 */
export function decorationSite(factory: (...args: any[]) => unknown): DecorationSite {
  const frame = callerFrame(factory);
  if (frame === undefined || frame.isEval()) return UNKNOWN;
  const script = scriptName(frame.getFileName());
  if (script === undefined) return UNKNOWN;
  const location = `${script}:${frame.getLineNumber() ?? 0}:${frame.getColumnNumber() ?? 0}`;
  return { location, hash: shortHash(location) };
}

/** 8 hex digits of the SHA-256 of `text`. @internal */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * `file` relative to the nearest directory above it that holds a package.json, with `/` between
 * segments and the package's name in front (`@acme/users/src/load.ts`), so one build installed
 * under different absolute paths, or on another platform, names its files alike. A file outside
 * any package keeps its absolute path.
 *
 * @internal
 */
export function packagePath(file: string): string {
  const pkg = packageOf(dirname(file));
  const path = pkg === undefined ? file : relative(pkg.root, file);
  const portable = sep === '/' ? path : path.split(sep).join('/');
  return pkg?.name === undefined ? portable : `${pkg.name}/${portable}`;
}

interface PackageRoot {
  root: string;
  name: string | undefined;
}

// Per directory, so decorating many functions of one tree reads each package.json once.
const roots = new Map<string, PackageRoot | null>();

function packageOf(directory: string): PackageRoot | undefined {
  const visited: string[] = [];
  let found: PackageRoot | null | undefined;
  for (let dir = directory; ; ) {
    found = roots.get(dir);
    if (found !== undefined) break;
    visited.push(dir);
    found = readPackage(dir);
    if (found !== null) break;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const dir of visited) roots.set(dir, found ?? null);
  return found ?? undefined;
}

function readPackage(dir: string): PackageRoot | null {
  let text: string;
  try {
    text = readFileSync(join(dir, 'package.json'), 'utf8');
  } catch {
    return null;
  }
  let name: unknown;
  try {
    name = (JSON.parse(text) as { name?: unknown } | null)?.name;
  } catch {
    // A package.json that does not parse still marks the root; it only lends no name.
  }
  return { root: dir, name: typeof name === 'string' && name !== '' ? name : undefined };
}

/**
 * What names a frame's script: a package-relative path for a `file:` URL (ESM) or an absolute path
 * (CJS); any other name as it is (`webpack-internal:///./src/users.ts` is stable within a build).
 */
function scriptName(name: string | null | undefined): string | undefined {
  if (typeof name !== 'string' || name === '') return undefined;
  if (name.startsWith('file:')) {
    try {
      return packagePath(fileURLToPath(name));
    } catch {
      return name;
    }
  }
  return isAbsolute(name) ? packagePath(name) : name;
}

function callerFrame(factory: (...args: any[]) => unknown): NodeJS.CallSite | undefined {
  const previousPrepare = Error.prepareStackTrace;
  const previousLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 1;
    Error.prepareStackTrace = (_error, frames) => frames;
    const holder: { stack?: unknown } = {};
    // Frames from `factory` up are left out: the first one is the code that called it.
    Error.captureStackTrace(holder, factory);
    const frames = holder.stack;
    return Array.isArray(frames) ? (frames[0] as NodeJS.CallSite | undefined) : undefined;
  } catch {
    // A frozen `Error` (hardened environments) cannot lend its stack: the site stays unknown.
    return undefined;
  } finally {
    try {
      Error.prepareStackTrace = previousPrepare;
      Error.stackTraceLimit = previousLimit;
    } catch {
      // Nothing was changed.
    }
  }
}
