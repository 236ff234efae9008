import pino from 'pino';
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
export function createDefaultLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const instance = pino(
    {
      level,
      messageKey: 'message',
      base: { module: 'enterprise' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const id = currentContext()?.correlationId;
        return id === undefined ? {} : { correlationId: id };
      },
    },
    destination,
  );
  return wrapLogger(instance as unknown as LoggerLike);
}

/**
 * Adapts a host logger to {@link Logger}: adds the correlation id of the current context and swallows
 * anything the host logger throws, so logging can never break the caller.
 */
export function wrapLogger(host: LoggerLike): Logger {
  const write = (method: 'debug' | 'info' | 'warn' | 'error') => {
    return (fields: Record<string, unknown>, message: string) => {
      try {
        const id = currentContext()?.correlationId;
        const line =
          id === undefined || 'correlationId' in fields ? fields : { ...fields, correlationId: id };
        const target = host[method];
        if (typeof target === 'function') {
          (target as (fields: object, message: string) => void).call(host, line, message);
        }
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
    child(extra) {
      let next: LoggerLike | undefined;
      try {
        next = typeof host.child === 'function' ? host.child(extra) : undefined;
      } catch {
        next = undefined;
      }
      return next ? wrapLogger(next) : withBindings(host, extra);
    },
  };
}

/** For host loggers without `child`: merges the bindings into every line instead. */
function withBindings(host: LoggerLike, bindings: Record<string, unknown>): Logger {
  const inner = wrapLogger(host);
  const merge =
    (method: (fields: Record<string, unknown>, message: string) => void) =>
    (fields: Record<string, unknown>, message: string) =>
      method({ ...bindings, ...fields }, message);
  return {
    debug: merge(inner.debug),
    info: merge(inner.info),
    warn: merge(inner.warn),
    error: merge(inner.error),
    child: (extra) => withBindings(host, { ...bindings, ...extra }),
  };
}
