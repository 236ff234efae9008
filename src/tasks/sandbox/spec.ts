import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, parseDuration } from '../../core/duration.js';
import { describeValue, InvalidArgumentError } from '../../core/errors.js';
import type { TaskContext, TaskDefinitionOptions } from '../api-types.js';
import { TaskSandboxFileError } from '../errors.js';

/**
 * Where and how a sandboxed handler runs (`backgroundTask(name, { sandbox })`). `file` is the module whose default export is the
 * handler: an absolute path, a path relative to `process.cwd()` at registration, or a `file:`
 * URL (`new URL('./resize.js', import.meta.url)` for a path relative to the calling module).
 *
 * @example
 * ```ts
 * backgroundTask('render_pdf', {
 *   sandbox: { file: new URL('./render-pdf.js', import.meta.url), kind: 'process', poolSize: 2, maxMemoryMb: 512 },
 *   timeout: '2m',
 * });
 * ```
 */
export interface SandboxOptions {
  /** The handler's module: a path (absolute, or relative to `process.cwd()`) or a `file:` URL. */
  file: string | URL;
  /** `'thread'` (worker threads) or `'process'` (child processes). @defaultValue 'thread' */
  kind?: 'thread' | 'process';
  /** Threads (or processes) at most. @defaultValue the number of cores minus one, at least 1 */
  poolSize?: number;
  /**
   * Heap limit of each thread or process, in MiB (worker threads' `resourceLimits`; a child
   * process's `--max-old-space-size`). An attempt that exceeds it fails. @defaultValue Node's own
   */
  maxMemoryMb?: number;
  /**
   * How long a handler may keep running once its `signal` was aborted (timeout, shutdown, lost
   * lease) before its thread or process is terminated and replaced. @defaultValue '1s'
   */
  abortGrace?: Duration;
}

/**
 * A log method of {@link SandboxTaskContext}: a message, or fields and then a message.
 *
 * @example
 * ```js
 * context.logger.warn({ attempt: context.attempt }, 'remote side slow');
 * ```
 */
export type SandboxLogMethod = {
  (message: string): void;
  (fields: Record<string, unknown>, message?: string): void;
};

/**
 * What a sandboxed handler gets as its second argument: the {@link TaskContext} (its `signal`
 * aborts in the thread when the main side aborts the attempt; `progress` reaches the main thread),
 * and a `logger` whose lines the main thread writes with the task's id.
 *
 * @example
 * ```js
 * // resize-image.js, run in a worker thread; its context is a SandboxTaskContext
 * export default async function resize(payload, { signal, progress, logger }) {
 *   logger.info({ url: payload.url }, 'resizing');
 *   progress(50);
 *   return { ok: true };
 * }
 * ```
 */
export interface SandboxTaskContext extends TaskContext {
  readonly logger: {
    readonly debug: SandboxLogMethod;
    readonly info: SandboxLogMethod;
    readonly warn: SandboxLogMethod;
    readonly error: SandboxLogMethod;
  };
}

/**
 * What `sandbox` accepts: the file alone, or {@link SandboxOptions}.
 *
 * @example
 * ```ts
 * const sandbox: SandboxOption = new URL('./resize.js', import.meta.url);
 * ```
 */
export type SandboxOption = string | URL | SandboxOptions;

/**
 * Registration options of a sandboxed handler: the task's defaults, plus where it runs.
 *
 * @example
 * ```ts
 * backgroundTask('hash_file', { sandbox: './dist/handlers/hash-file.js', maxRetries: 2 });
 * ```
 */
export interface SandboxedTaskOptions extends TaskDefinitionOptions {
  /** Runs the handler in a pool of worker threads or child processes (see docs/tasks.md). */
  sandbox: SandboxOption;
}

/**
 * Options of `@BackgroundTask`: the task's defaults, and optionally a sandbox.
 *
 * @example
 * ```ts
 * class Reports {
 *   @BackgroundTask('render_report', { sandbox: new URL('./render-report.js', import.meta.url) })
 *   render(payload: { month: string }) { return renderReport(payload); } // in-process twin
 * }
 * ```
 */
export interface BackgroundTaskOptions extends TaskDefinitionOptions {
  /**
   * Runs the task in a sandbox: the file's default export handles the tasks, and the decorated
   * method stays an ordinary method (handy as the in-process twin for tests).
   */
  sandbox?: SandboxOption;
}

/**
 * A checked sandbox, as a registration keeps it: the absolute path and every setting filled in.
 *
 * @example
 * ```ts
 * // { file: '/srv/app/dist/resize.js', kind: 'thread', poolSize: 1, abortGraceMs: 1000, ... }
 * ```
 */
export interface SandboxSpec {
  readonly file: string;
  readonly kind: 'thread' | 'process';
  readonly poolSize: number;
  readonly maxMemoryMb: number | undefined;
  readonly abortGraceMs: number;
  /** Identifies the sandbox among registrations (two equal specs share nothing but this key). */
  readonly key: string;
}

function invalid(argument: string, value: unknown, expected: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `${argument}=${describeValue(value)} is invalid: expected ${expected}`,
    { argument, value, expected },
  );
}

/** The default pool size: one thread per core but the one the main thread uses, at least one. */
export function defaultPoolSize(): number {
  return Math.max(1, availableParallelism() - 1);
}

function resolveFile(file: unknown, argument: string): string {
  let path: string;
  if (file instanceof URL || (typeof file === 'string' && file.startsWith('file:'))) {
    try {
      path = fileURLToPath(file);
    } catch (error) {
      throw invalid(argument, String(file), `a file: URL (${(error as Error).message})`);
    }
  } else if (typeof file === 'string' && file.trim() !== '') {
    path = isAbsolute(file) ? file : resolve(process.cwd(), file);
  } else {
    throw invalid(argument, file, 'a path or a file: URL of a module');
  }
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new TaskSandboxFileError(
      `the sandbox file ${path} does not exist${typeof file === 'string' && !isAbsolute(file) && !file.startsWith('file:') ? ` (${file} is resolved against the working directory ${process.cwd()}; pass new URL('${file}', import.meta.url) for a path relative to your module)` : ''}`,
      { file: path },
    );
  }
  return path;
}

/**
 * @internal Checks a `sandbox` option at registration: the file must exist (a missing file fails
 * here, not at the first task), numbers must be positive.
 */
export function checkSandbox(value: unknown, argument = 'options.sandbox'): SandboxSpec {
  const options: SandboxOptions =
    typeof value === 'string' || value instanceof URL ? { file: value } : (value as SandboxOptions);
  if (options === null || typeof options !== 'object') {
    throw invalid(argument, value, 'a file (path or file: URL) or { file, kind, poolSize, ... }');
  }
  const file = resolveFile(options.file, `${argument}.file`);
  const kind = options.kind ?? 'thread';
  if (kind !== 'thread' && kind !== 'process') {
    throw invalid(`${argument}.kind`, kind, "'thread' or 'process'");
  }
  const poolSize = options.poolSize ?? defaultPoolSize();
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1_024) {
    throw invalid(`${argument}.poolSize`, poolSize, 'a whole number from 1 to 1024');
  }
  const maxMemoryMb = options.maxMemoryMb;
  if (maxMemoryMb !== undefined && (!Number.isInteger(maxMemoryMb) || maxMemoryMb < 8)) {
    throw invalid(`${argument}.maxMemoryMb`, maxMemoryMb, 'a whole number of MiB, at least 8');
  }
  const abortGraceMs = parseDuration(options.abortGrace ?? 1, `${argument}.abortGrace`);
  return {
    file,
    kind,
    poolSize,
    maxMemoryMb,
    abortGraceMs,
    key: JSON.stringify([file, kind, poolSize, maxMemoryMb ?? null, abortGraceMs]),
  };
}

/**
 * @internal Splits registration options into the task's defaults and its checked sandbox (none
 * when `sandbox` is absent).
 */
export function splitSandbox(
  options: BackgroundTaskOptions | undefined,
  argument = 'options',
): { options: TaskDefinitionOptions | undefined; sandbox: SandboxSpec | undefined } {
  if (options === null || typeof options !== 'object' || !('sandbox' in options)) {
    return { options, sandbox: undefined };
  }
  const { sandbox, ...rest } = options;
  if (sandbox === undefined) return { options: rest, sandbox: undefined };
  return { options: rest, sandbox: checkSandbox(sandbox, `${argument}.sandbox`) };
}
