// A graceful shutdown, in the order a load balancer needs: readiness fails at once, a delay lets
// the balancer notice, the host's servers finish their requests in flight, then the instance
// stops (workers hand back, the scheduler stops, connections close). A deadline or a second
// signal ends it.
import { type Duration, parseDuration } from './duration.js';
import { ConfigError, describeValue, InvalidArgumentError } from './errors.js';
import type { Logger } from './logger.js';
import {
  closeAfterEachResponse,
  type DrainableServer,
  drainServer,
  isDrainableServer,
} from './server-drain.js';

/** The process signals a graceful shutdown may follow. */
export type ShutdownSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGQUIT' | 'SIGUSR2';

const SIGNALS: ReadonlySet<string> = new Set(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2']);

/**
 * How the instance shuts down gracefully (`createEnterprise({ shutdown })`).
 *
 * @example
 * ```ts
 * createEnterprise({
 *   shutdown: { signals: ['SIGTERM', 'SIGINT'], readinessDelay: '5s', deadline: '30s' },
 * });
 * ```
 */
export interface ShutdownOptions {
  /**
   * Signals that start a graceful shutdown once the instance is started; a second one (or the
   * deadline) cuts it short. @defaultValue [] (none: call `handleSignals()` or `drain()`)
   */
  signals?: readonly ShutdownSignal[];
  /**
   * How long `/health/ready` answers 503 before the servers stop accepting connections, so load
   * balancers take the instance out first. Seconds or a string (`'500ms'`). @defaultValue 5
   */
  readinessDelay?: Duration;
  /**
   * The whole shutdown ends by then, counted from its start: connections still open are closed and
   * running tasks handed back. Longer than `readinessDelay`. @defaultValue 30
   */
  deadline?: Duration;
  /**
   * What ends the process after a shutdown started by a signal: `true` calls `process.exit()` with
   * 0 (clean) or 1 (cut by the deadline or a second signal); `false` only sets `process.exitCode`;
   * a function is called with the code. @defaultValue true
   */
  exit?: boolean | ((code: number) => void);
}

/** @internal {@link ShutdownOptions} checked, in milliseconds. */
export interface ShutdownSettings {
  signals: readonly ShutdownSignal[];
  readinessDelayMs: number;
  deadlineMs: number;
  exit: (code: number) => void;
}

/**
 * What a shutdown hook receives: when the shutdown ends at the latest, and the signal that
 * started it (none for `drain()`).
 */
export interface DrainContext {
  /** Epoch milliseconds. */
  deadline: number;
  signal?: ShutdownSignal;
}

/** Closes something of the host's when the instance drains (`() => fastify.close()`). */
export type DrainHook = (context: DrainContext) => unknown;

/** What `onDrain()` accepts: a Node server to close, or a hook. */
export type DrainTarget = DrainableServer | DrainHook;

/**
 * How a graceful shutdown went: `clean` (everything finished in time), `deadline` (cut at the
 * deadline) or `forced` (cut by a second signal).
 */
export interface DrainReport {
  outcome: 'clean' | 'deadline' | 'forced';
  signal?: ShutdownSignal;
  /** From the start of the shutdown to its end. */
  durationMs: number;
  /** The exit code a signal's shutdown ends the process with: 0 when clean, 1 otherwise. */
  exitCode: 0 | 1;
}

function fail(field: string, value: unknown, expected: string, cause?: unknown): never {
  throw new ConfigError(
    `${field}=${describeValue(value)} is invalid: expected ${expected}`,
    { source: field, value, expected },
    cause,
  );
}

function duration(field: string, value: unknown, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  try {
    return parseDuration(value, field);
  } catch (error) {
    return fail(field, value, "a number of seconds or a string such as '500ms', '30s'", error);
  }
}

/**
 * @internal Checks {@link ShutdownOptions}; a bad value throws a `ConfigError` naming the option.
 */
export function resolveShutdownSettings(options: unknown): ShutdownSettings {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return fail('shutdown', options, 'an options object');
  }
  const o = options as ShutdownOptions;
  const signals = o.signals ?? [];
  if (!Array.isArray(signals) || signals.some((s) => typeof s !== 'string' || !SIGNALS.has(s))) {
    fail('shutdown.signals', signals, `an array of ${[...SIGNALS].join(', ')}`);
  }
  const readinessDelayMs = duration('shutdown.readinessDelay', o.readinessDelay, 5_000);
  const deadlineMs = duration('shutdown.deadline', o.deadline, 30_000);
  if (deadlineMs <= readinessDelayMs) {
    fail(
      'shutdown.deadline',
      o.deadline ?? 30,
      `a duration longer than shutdown.readinessDelay (${readinessDelayMs} ms)`,
    );
  }
  const exit = o.exit ?? true;
  if (typeof exit !== 'boolean' && typeof exit !== 'function') {
    fail('shutdown.exit', exit, 'true, false or a function of the exit code');
  }
  return {
    signals: [...new Set(signals)],
    readinessDelayMs,
    deadlineMs,
    exit:
      typeof exit === 'function'
        ? exit
        : exit
          ? (code) => process.exit(code)
          : (code) => {
              process.exitCode = code;
            },
  };
}

/**
 * @internal The graceful shutdown of one instance: its readiness flag, the host's servers and
 * hooks, the signal listeners. `stop` is the instance's own shutdown.
 */
export class GracefulShutdown {
  readonly #settings: ShutdownSettings;
  readonly #log: Logger;
  readonly #stop: () => Promise<void>;
  readonly #targets = new Set<DrainTarget>();
  #running: Promise<DrainReport> | undefined;
  #deadlineAt: number | undefined;
  #force: () => void = () => {};
  #removeSignals: (() => void) | undefined;

  constructor(settings: ShutdownSettings, log: Logger, stop: () => Promise<void>) {
    this.#settings = settings;
    this.#log = log;
    this.#stop = stop;
  }

  get settings(): ShutdownSettings {
    return this.#settings;
  }

  /** True from the start of a graceful shutdown: readiness answers 503. */
  get draining(): boolean {
    return this.#running !== undefined;
  }

  /** When the running graceful shutdown ends at the latest (epoch ms), if one runs. */
  get deadlineAt(): number | undefined {
    return this.#deadlineAt;
  }

  add(target: DrainTarget): () => void {
    if (typeof target !== 'function' && !isDrainableServer(target)) {
      throw new InvalidArgumentError(
        `onDrain(${describeValue(target)}): expected a Node server or a function`,
        { argument: 'target', value: target, expected: 'a Node server or a function' },
      );
    }
    this.#targets.add(target);
    return () => void this.#targets.delete(target);
  }

  /** Starts the graceful shutdown, or returns the one under way. */
  drain(signal?: ShutdownSignal): Promise<DrainReport> {
    this.#running ??= this.#run(signal);
    return this.#running;
  }

  /** Listens to `signals`: the first starts a shutdown, a second cuts it. Idempotent per call. */
  listen(signals: readonly ShutdownSignal[] = this.#settings.signals): () => void {
    this.#removeSignals?.();
    const handler = (signal: ShutdownSignal) => {
      if (this.#running !== undefined) {
        this.#log.warn({ signal }, 'second signal: cutting the graceful shutdown short');
        this.#force();
        return;
      }
      void this.drain(signal).then((report) => {
        this.dispose();
        try {
          this.#settings.exit(report.exitCode);
        } catch (error) {
          this.#log.error({ err: error }, 'graceful shutdown: the exit function threw');
        }
      });
    };
    for (const signal of signals) process.on(signal, handler);
    const remove = () => {
      for (const signal of signals) process.off(signal, handler);
      if (this.#removeSignals === remove) this.#removeSignals = undefined;
    };
    this.#removeSignals = remove;
    return remove;
  }

  /** Removes the signal listeners. */
  dispose(): void {
    this.#removeSignals?.();
  }

  async #run(signal: ShutdownSignal | undefined): Promise<DrainReport> {
    const { readinessDelayMs, deadlineMs } = this.#settings;
    const started = Date.now();
    const deadlineAt = started + deadlineMs;
    this.#deadlineAt = deadlineAt;
    const timers: NodeJS.Timeout[] = [];
    const after = <T>(ms: number, value: T) =>
      new Promise<T>((resolve) => {
        const timer = setTimeout(() => resolve(value), ms);
        timer.unref();
        timers.push(timer);
      });
    const forced = new Promise<'forced'>((resolve) => {
      this.#force = () => resolve('forced');
    });
    const cut = Promise.race([after(deadlineMs, 'deadline' as const), forced]);
    this.#log.info(
      { signal, readinessDelayMs, deadlineMs },
      'graceful shutdown: readiness answers 503 from now on',
    );
    const undo = [...this.#targets].filter(isDrainableServer).map(closeAfterEachResponse);
    let outcome: DrainReport['outcome'] = 'clean';
    try {
      const delayed = await Promise.race([after(readinessDelayMs, 'clean' as const), cut]);
      if (delayed !== 'clean') {
        outcome = delayed;
      } else {
        const closed = await Promise.race([this.#closeTargets(deadlineAt, signal, cut), cut]);
        if (closed !== 'clean') {
          outcome = closed;
        } else {
          const stopped = this.#stop().then(
            () => 'clean' as const,
            (error: unknown) => {
              this.#log.error({ err: error }, 'graceful shutdown: the instance failed to stop');
              return 'clean' as const;
            },
          );
          outcome = await Promise.race([stopped, cut]);
        }
      }
    } finally {
      if (outcome !== 'clean') {
        // Cut: connections still open are closed by drainServer; the instance stops what it can.
        this.#stop().catch(() => undefined);
      }
      for (const timer of timers) clearTimeout(timer);
      for (const fn of undo) fn();
    }
    const report: DrainReport = {
      outcome,
      ...(signal === undefined ? {} : { signal }),
      durationMs: Date.now() - started,
      exitCode: outcome === 'clean' ? 0 : 1,
    };
    const level = outcome === 'clean' ? 'info' : 'warn';
    this.#log[level]({ ...report }, `graceful shutdown ended (${outcome})`);
    return report;
  }

  async #closeTargets(
    deadline: number,
    signal: ShutdownSignal | undefined,
    cut: Promise<unknown>,
  ): Promise<'clean'> {
    const results = await Promise.allSettled(
      [...this.#targets].map((target) =>
        isDrainableServer(target)
          ? drainServer(target, cut)
          : Promise.resolve().then(() =>
              target({ deadline, ...(signal === undefined ? {} : { signal }) }),
            ),
      ),
    );
    for (const result of results) {
      if (result.status === 'rejected') {
        this.#log.error({ err: result.reason }, 'graceful shutdown: a drain hook failed');
      }
    }
    return 'clean';
  }
}
