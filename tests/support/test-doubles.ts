import { Writable } from 'node:stream';
import type { Clock } from '../../src/core/clock.js';
import type { LoggerLike } from '../../src/core/logger.js';

/** Wall-clock origin of every fake clock: 2023-11-14T22:13:20.000Z. */
export const EPOCH = 1_700_000_000_000;

/** A clock the test moves by hand: durations and window rotation become deterministic. */
export interface FakeClock extends Clock {
  /** Monotonic milliseconds. */
  t: number;
  /** Moves both the monotonic and the wall clock forward. */
  advance(ms: number): void;
}

/** A {@link FakeClock} starting at `start` monotonic milliseconds; the wall clock is EPOCH + t. */
export function fakeClock(start = 0): FakeClock {
  const clock: FakeClock = {
    t: start,
    now: () => clock.t,
    epochNow: () => EPOCH + clock.t,
    advance: (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

/** A clock the test moves by hand, for `createEnterprise({ clock })`. */
export interface ManualClock {
  readonly clock: Clock;
  /** Moves both the monotonic and the wall clock forward. */
  advance(ms: number): void;
}

/** A {@link fakeClock} split into the clock to inject and the hand that moves it. */
export function manualClock(start = 0): ManualClock {
  const clock = fakeClock(start);
  return { clock, advance: clock.advance };
}

/** One call received by a {@link RecordingLogger}. */
export interface LogCall {
  level: string;
  fields: Record<string, unknown>;
  message: string | undefined;
}

/** A pino-shaped host logger that keeps every call, for `createEnterprise({ logger })`. */
export interface RecordingLogger extends LoggerLike {
  readonly calls: LogCall[];
  /** Bindings passed to `child()`, in order. */
  readonly children: Record<string, unknown>[];
}

/**
 * A host logger recording every call. With `withChild: false` it has no `child` method, like a
 * minimal console-style logger.
 */
export function recordingLogger(options: { withChild?: boolean } = {}): RecordingLogger {
  const calls: LogCall[] = [];
  const children: Record<string, unknown>[] = [];
  const build = (bindings: Record<string, unknown>): RecordingLogger => {
    const method =
      (level: string) =>
      (fieldsOrMessage: object | string, message?: string): void => {
        const fields =
          typeof fieldsOrMessage === 'string' ? {} : (fieldsOrMessage as Record<string, unknown>);
        calls.push({
          level,
          fields: { ...bindings, ...fields },
          message: typeof fieldsOrMessage === 'string' ? fieldsOrMessage : message,
        });
      };
    const logger: RecordingLogger = {
      calls,
      children,
      trace: method('trace'),
      debug: method('debug'),
      info: method('info'),
      warn: method('warn'),
      error: method('error'),
      fatal: method('fatal'),
    };
    if (options.withChild !== false) {
      logger.child = (extra) => {
        children.push(extra);
        return build({ ...bindings, ...extra });
      };
    }
    return logger;
  };
  return build({});
}

/** A host logger whose every method, `child` included, throws. */
export function throwingLogger(): LoggerLike & { attempts: number } {
  const state = { attempts: 0 };
  const fail = (): never => {
    state.attempts++;
    throw new Error('the host logger is broken');
  };
  return {
    get attempts() {
      return state.attempts;
    },
    trace: fail,
    debug: fail,
    info: fail,
    warn: fail,
    error: fail,
    fatal: fail,
    child: fail,
  };
}

/** A writable stream that keeps every line written to it, for `createDefaultLogger(level, stream)`. */
export interface LineCapture {
  readonly stream: Writable;
  /** The raw lines, without their trailing newline. */
  readonly raw: string[];
  /** Every line parsed as JSON. */
  json(): Record<string, unknown>[];
}

export function captureLines(): LineCapture {
  const raw: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line !== '') raw.push(line);
      callback();
    },
  });
  return { stream, raw, json: () => raw.map((line) => JSON.parse(line)) };
}
