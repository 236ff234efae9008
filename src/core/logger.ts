import { createRequire } from 'node:module';
import type Pino from 'pino';
import { currentContext } from './context.js';

/** Log levels, lowest first, as pino names them. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A pino-style log method: `(fields, message)` or `(message)`. */
export type LogMethod = {
  (fields: object, message?: string): void;
  (message: string): void;
};

/**
 * The logger shape the package accepts from a host: pino itself, or anything with pino's method
 * signatures (bunyan-style `child` is optional). A host logger that throws is contained: the package
 * keeps working and stops logging through it for that call.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * createEnterprise({ logger: pino({ level: 'debug' }) });
 * ```
 */
export interface LoggerLike {
  trace?: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  fatal?: LogMethod;
  child?: (bindings: Record<string, unknown>) => LoggerLike;
}

/** The logger every module of the package writes to: structured fields first, then the message. */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  /** A logger whose lines carry `module` (and any other bindings). */
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * Builds the default logger: JSON lines with `level`, `time` (ISO 8601), `message`, `module` and,
 * inside a request context, `correlationId`.
 *
 * @param destination - where lines go; stdout when omitted.
 * @example
 * ```ts
 * const log = createDefaultLogger('info');
 * log.child({ module: 'cache' }).info({ key: 'user:1' }, 'cache warmed');
 * ```
 */
export function createDefaultLogger(level: LogLevel, destination?: Pino.DestinationStream): Logger {
  // Loaded on first use rather than at import: pino opens stdio handles as it loads, and a host that
  // passes its own logger never needs it.
  const pino = createRequire(import.meta.url)('pino') as typeof Pino;
  const instance = pino(
    {
      level,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // No pino `mixin` for the correlation id: wrapLogger adds it, and a mixin costs an object
      // and a merge per line.
    },
    destination ?? stdoutDestination(pino),
  );
  return wrapLogger(instance as unknown as LoggerLike);
}

let sharedStdout: BatchedStdout | undefined;

/**
 * The stdout of every default logger of the process: lines are collected up to 4 KiB and written
 * together, and at the latest 100 ms after the first line of a batch (a one-shot unref'd timer,
 * armed only while lines wait), so a busy service makes one system call per batch of lines rather
 * than one per line: written one by one, a per-request log line was the largest cost of the HTTP
 * middleware. Nothing is opened before the first line. pino's destination writes what is pending
 * when the process exits, uncaught exceptions included; a process killed with SIGKILL loses at
 * most the last 100 ms of lines.
 */
class BatchedStdout {
  #destination: (Pino.DestinationStream & { flush?: () => void }) | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #pino: typeof Pino;

  constructor(pino: typeof Pino) {
    this.#pino = pino;
  }

  write(line: string): void {
    this.#destination ??= this.#pino.destination({ dest: 1, sync: false, minLength: 4096 });
    this.#destination.write(line);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#flush, 100);
      this.#timer.unref();
    }
  }

  readonly #flush = (): void => {
    this.#timer = undefined;
    this.#destination?.flush?.();
  };
}

function stdoutDestination(pino: typeof Pino): Pino.DestinationStream {
  sharedStdout ??= new BatchedStdout(pino);
  return sharedStdout;
}

/**
 * Adapts a host logger to {@link Logger}: adds the bindings of {@link Logger.child} and the
 * correlation id of the current context to each line, and swallows anything the host logger throws,
 * so logging can never break the caller.
 *
 * Bindings are merged into each line rather than chained through the host's own `child()`: chained
 * pino children write a key bound at two levels twice in one JSON line, which log stores reject.
 */
export function wrapLogger(host: LoggerLike, bindings: Record<string, unknown> = {}): Logger {
  const hasBindings = Object.keys(bindings).length > 0;
  const write = (method: 'debug' | 'info' | 'warn' | 'error') => {
    return (fields: Record<string, unknown>, message: string) => {
      try {
        const target = host[method];
        if (typeof target !== 'function') return;
        const id = currentContext()?.correlationId;
        let line: Record<string, unknown> = fields;
        // Object.assign rather than spreads: a line built by spreading two objects took pino
        // twice as long to serialize (measured: about 10 µs against 6 µs per line).
        if (hasBindings) line = Object.assign({}, bindings, fields);
        if (id !== undefined && !('correlationId' in line)) {
          if (line === fields) line = Object.assign({}, fields);
          line.correlationId = id;
        }
        (target as (fields: object, message: string) => void).call(host, line, message);
      } catch {
        // A host logger that throws must not turn a log line into a failure of the caller.
      }
    };
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (extra) => wrapLogger(host, { ...bindings, ...extra }),
  };
}
