import { createRequire } from 'node:module';
import type Pino from 'pino';
import { BatchedStdout } from './batched-stdout.js';
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
 * inside a request context, `correlationId` (and `traceId` / `spanId` when it has a trace).
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
  const stream = destination ?? stdoutDestination();
  const instance = pino(
    {
      level,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // No pino `mixin` for the correlation id: wrapLogger adds it, and a mixin costs an object
      // and a merge per line.
    },
    stream,
  );
  return wrapLogger(
    instance as unknown as LoggerLike,
    {},
    {
      pino: instance,
      chindings: (instance as unknown as Record<symbol, string | undefined>)[
        pino.symbols.chindingsSym
      ],
      stream,
    },
  );
}

/**
 * A writer of lines whose fields the caller has already serialized, offered by the default logger
 * only ({@link rawLineWriterOf}). It exists for the one line a service writes per HTTP request:
 * its six fields are known in advance, and serializing them directly costs a fraction of handing
 * pino an object to walk. The line is the one the default logger would write: same keys, same
 * order, same level filter.
 *
 * @internal
 */
export interface RawLineWriter {
  /**
   * Writes `{"level","time","pid","hostname",<the logger's bindings>,<fields>,"message"}`.
   * `fields` is one or more JSON members without braces (`"status":200,"route":"/x"`), none of
   * them a key of the logger's bindings. Unlike the logger's methods, nothing is added for the
   * current context: a caller that wants `correlationId` includes it. Lines below the logger's
   * level (which can change at runtime) are dropped.
   */
  write(level: 'info' | 'warn', fields: string, message: string): void;
  /** {@link write} with the line's time given (epoch ms) and no level check (done by the caller). */
  writeAt(level: 'info' | 'warn', timeMs: number, fields: string, message: string): void;
  /** Whether lines of `level` are written now. */
  enabled(level: 'info' | 'warn'): boolean;
  /**
   * Asks the destination to call `produce` (which writes lines the caller kept back) before it
   * writes any other line and within its batching delay. False when the destination cannot: the
   * caller writes at once.
   */
  defer(produce: () => void): boolean;
}

const RAW_LINE_WRITER = Symbol('@revcopy/enterprise/raw-line-writer');

/** The default logger's {@link RawLineWriter}; `undefined` for any other logger. @internal */
export function rawLineWriterOf(logger: Logger): RawLineWriter | undefined {
  return (logger as { [RAW_LINE_WRITER]?: RawLineWriter })[RAW_LINE_WRITER];
}

/** What {@link wrapLogger} needs to offer a {@link RawLineWriter}: the default logger's pino and stream. */
interface RawTarget {
  readonly pino: Pino.Logger;
  /** pino's own serialization of its base bindings (`,"pid":…,"hostname":…`), so the lines match. */
  readonly chindings: string | undefined;
  readonly stream: Pino.DestinationStream;
}

function rawLineWriter(target: RawTarget, bindings: Record<string, unknown>): RawLineWriter {
  const { pino, chindings, stream } = target;
  const bound = JSON.stringify(bindings);
  const middle = `"${chindings ?? ''}${bound === '{}' ? '' : `,${bound.slice(1, -1)}`},`;
  const info = '{"level":"info","time":"';
  const warn = '{"level":"warn","time":"';
  // A caller writes the same message line after line: its JSON is made once, not per line.
  let lastMessage: string | undefined;
  let lastMessageJson = '';
  const writeAt = (level: 'info' | 'warn', timeMs: number, fields: string, message: string) => {
    if (message !== lastMessage) {
      lastMessage = message;
      lastMessageJson = JSON.stringify(message);
    }
    stream.write(
      `${level === 'info' ? info : warn}${isoAt(timeMs)}${middle}${fields},"message":${lastMessageJson}}\n`,
    );
  };
  return {
    write(level, fields, message) {
      if (pino.isLevelEnabled(level)) writeAt(level, Date.now(), fields, message);
    },
    writeAt,
    enabled: (level) => pino.isLevelEnabled(level),
    defer(produce) {
      if (!(stream instanceof BatchedStdout)) return false;
      stream.defer(produce);
      return true;
    },
  };
}

let isoMs = Number.NaN;
let isoText = '';

/** `new Date(ms).toISOString()`, formatted once per millisecond however many lines share it. */
function isoAt(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

let sharedStdout: BatchedStdout | undefined;

/** The stdout every default logger of the process shares (see {@link BatchedStdout}). */
function stdoutDestination(): Pino.DestinationStream {
  sharedStdout ??= new BatchedStdout();
  return sharedStdout;
}

/**
 * Adapts a host logger to {@link Logger}: adds the bindings of {@link Logger.child} and the
 * correlation id, trace id and span id of the current context to each line, and swallows anything the host logger throws,
 * so logging can never break the caller.
 *
 * Bindings are merged into each line rather than chained through the host's own `child()`: chained
 * pino children write a key bound at two levels twice in one JSON line, which log stores reject.
 */
export function wrapLogger(
  host: LoggerLike,
  bindings: Record<string, unknown> = {},
  raw?: RawTarget,
): Logger {
  const hasBindings = Object.keys(bindings).length > 0;
  const write = (method: 'debug' | 'info' | 'warn' | 'error') => {
    return (fields: Record<string, unknown>, message: string) => {
      try {
        const target = host[method];
        if (typeof target !== 'function') return;
        const context = currentContext();
        const id = context?.correlationId;
        const trace = context?.trace;
        let line: Record<string, unknown> = fields;
        // Object.assign rather than spreads: pino serializes a line built by spreads much slower.
        if (hasBindings) line = Object.assign({}, bindings, fields);
        if (id !== undefined && !('correlationId' in line)) {
          if (line === fields) line = Object.assign({}, fields);
          line.correlationId = id;
        }
        if (trace !== undefined && !('traceId' in line)) {
          if (line === fields) line = Object.assign({}, fields);
          line.traceId = trace.traceId;
          line.spanId = trace.spanId;
        }
        (target as (fields: object, message: string) => void).call(host, line, message);
      } catch {
        // A host logger that throws must not turn a log line into a failure of the caller.
      }
    };
  };
  const logger: Logger = {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (extra) => wrapLogger(host, { ...bindings, ...extra }, raw),
  };
  if (raw !== undefined) {
    Object.defineProperty(logger, RAW_LINE_WRITER, { value: rawLineWriter(raw, bindings) });
  }
  return logger;
}
