import { type Clock, systemClock } from '../core/clock.js';
import {
  type CallHost,
  guardedCall,
  NEVER_ABORTED,
  type Outcome,
  timedCall,
} from './breaker-calls.js';
import { BreakerEmitter } from './breaker-emitter.js';
import type { ResolvedBreakerOptions } from './breaker-options.js';
import type {
  BreakerCounts,
  BreakerSnapshot,
  BreakerState,
  CloseReason,
  ListedBreaker,
  OpenReason,
} from './breaker-types.js';
import { Deadlines } from './deadlines.js';
import { ErrorRateWindow } from './error-rate-window.js';
import { CircuitOpenError } from './errors.js';

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const NAMES: readonly BreakerState[] = ['closed', 'open', 'half-open'];

/**
 * A circuit breaker around one dependency: while the dependency keeps failing, calls are rejected
 * at once instead of piling up on it. Closed, it counts failures (in a row, or as a rate over a
 * sliding window); once they trip a policy it opens and rejects every call with a
 * {@link CircuitOpenError} for `halfOpenAfterMs`. The next call after that is the one trial
 * (half-open): every other call meanwhile is rejected at once, and the trial's outcome closes the
 * circuit or opens it for another period. Late outcomes of calls started before a change of
 * state never decide the new one. Build one with {@link circuitBreaker}.
 *
 * @example
 * ```ts
 * const payments = circuitBreaker('payments', { consecutiveFailures: 3, timeoutMs: 2_000 });
 * const receipt = await payments.execute((signal) => fetch(chargeUrl, { method: 'POST', signal }));
 * payments.on('open', ({ reason }) => log.warn({ reason }, 'payments circuit open'));
 * ```
 */
export class Breaker<F = never> extends BreakerEmitter implements ListedBreaker {
  /** The name it is listed under in `/health`, Prometheus and the dashboard. */
  readonly name: string;
  readonly #options: ResolvedBreakerOptions;
  readonly #clock: Clock;
  readonly #window: ErrorRateWindow | undefined;
  readonly #deadlines: Deadlines | undefined;
  readonly #counts: BreakerCounts = {
    success: 0,
    failure: 0,
    timeout: 0,
    rejected: 0,
    ignored: 0,
    fallback: 0,
  };
  readonly #successEvent: { breaker: string };
  #state = CLOSED;
  /** Bumped at every change of state: outcomes of calls from an older epoch are only counted. */
  #epoch = 0;
  #consecutive = 0;
  #isolations = 0;
  #retryAt = 0;
  #trialRunning = false;
  #trialStartedAt = 0;
  #lastChange: BreakerSnapshot['lastChange'] = null;
  readonly #host: CallHost<F>;
  #ok!: (value: unknown) => unknown;
  #fail!: (error: unknown) => unknown;

  /** @internal Use {@link circuitBreaker}, which checks the options and lists the breaker. */
  constructor(name: string, options: ResolvedBreakerOptions, clock: Clock = systemClock) {
    super();
    this.name = name;
    this.#options = options;
    this.#clock = clock;
    this.#successEvent = Object.freeze({ breaker: name });
    const { errorRate, timeoutMs } = options;
    if (errorRate !== undefined) {
      this.#window = new ErrorRateWindow(errorRate.windowMs, errorRate.buckets);
    }
    // Timeouts follow the timers that fire them, not `clock` (which times the open period).
    if (timeoutMs > 0) this.#deadlines = new Deadlines(timeoutMs, () => performance.now());
    this.#host = {
      name,
      timeoutMs,
      deadlines: this.#deadlines,
      record: (epoch, outcome, error) => this.#record(epoch, outcome, error),
      classify: (error, signal) => this.#classify(error, signal),
      answerFailure: (resolve, reject, error) => this.#answerFailure(resolve, reject, error),
    };
    this.#handlers();
  }

  /** `closed`, `open` or `half-open`. */
  get state(): BreakerState {
    return NAMES[this.#state]!;
  }

  /** Whether `isolate()` holds the circuit open. */
  get isolated(): boolean {
    return this.#isolations > 0;
  }

  /**
   * Runs `fn` through the breaker: its value, or its error, or a `CircuitOpenError` without
   * calling it when the circuit is open, or a `CircuitTimeoutError` after `timeoutMs` (the
   * fallback's answer instead of those errors, when there is one). A sync throw of `fn` counts
   * as a rejection. `fn` is given an `AbortSignal` that aborts when `signal` does or, for an `fn`
   * that declares the parameter, when the call times out. When `signal` aborts, the call
   * rejects with its reason at once; the breaker still counts how `fn` ends.
   */
  execute<T>(
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    signal?: AbortSignal,
  ): Promise<T | F> {
    if (this.#state === CLOSED && signal === undefined) {
      // The common cases, kept lean: handlers made once per state, no signal to follow.
      if (this.#deadlines === undefined) {
        let pending: unknown;
        try {
          pending = fn(NEVER_ABORTED);
        } catch (error) {
          pending = Promise.reject(error);
        }
        return (pending instanceof Promise ? pending : Promise.resolve(pending)).then(
          this.#ok,
          this.#fail,
        ) as Promise<T | F>;
      }
      if (fn.length === 0)
        return timedCall(this.#host, this.#epoch, fn as () => T | PromiseLike<T>);
    }
    return this.#enter(fn, signal);
  }

  /**
   * `fn` as a function that runs each call through {@link execute}, with the same `this` and
   * arguments. It always returns a promise.
   *
   * @example
   * ```ts
   * const getUser = breaker.wrap((id: string) => api.users.get(id));
   * await getUser('42');
   * ```
   */
  wrap<A extends unknown[], R>(
    fn: (this: any, ...args: A) => R | PromiseLike<R>,
  ): (...args: A) => Promise<R | F> {
    const breaker = this;
    return function (this: unknown, ...args: A) {
      return breaker.execute(() => fn.apply(this, args));
    };
  }

  /** Opens the circuit now, for `halfOpenAfterMs`, as if a policy had tripped. */
  open(): void {
    if (this.#isolations > 0) return;
    this.#transition(OPEN, 'manual');
  }

  /** Closes the circuit now and forgets the failures counted; ends any `isolate()` hold. */
  close(): void {
    this.#isolations = 0;
    if (this.#state !== CLOSED) this.#transition(CLOSED, 'manual');
    else this.#reset();
  }

  /**
   * Holds the circuit open until the returned function is called (holds nest: the circuit closes
   * when the last one is released). For maintenance, or to take a dependency out by hand.
   *
   * @example
   * ```ts
   * const release = breaker.isolate();
   * await migrateDatabase();
   * release();
   * ```
   */
  isolate(): () => void {
    this.#isolations++;
    if (this.#isolations === 1) this.#transition(OPEN, 'isolated');
    let released = false;
    return () => {
      if (released || this.#isolations === 0) return;
      released = true;
      this.#isolations--;
      if (this.#isolations === 0) this.#transition(CLOSED, 'released');
    };
  }

  /** The breaker's state and figures, as `/health`, Prometheus and the dashboard show them. */
  snapshot(): BreakerSnapshot {
    const window = this.#window;
    const rate = window?.rate ?? null;
    return {
      name: this.name,
      state: this.state,
      isolated: this.#isolations > 0,
      counts: { ...this.#counts },
      consecutiveFailures: this.#consecutive,
      window:
        window === undefined
          ? null
          : { calls: window.calls, failures: window.failures, errorRate: rate },
      lastChange: this.#lastChange === null ? null : { ...this.#lastChange },
      retryAt:
        this.#state === OPEN && this.#isolations === 0
          ? new Date(this.#epochOf(this.#retryAt)).toISOString()
          : null,
    };
  }

  /**
   * Stops the breaker's timers (the timeout's and the error-rate window's): calls still running
   * no longer time out, and the window forgets its calls. For shutdown; the breaker still works.
   */
  dispose(): void {
    this.#deadlines?.stop();
    this.#window?.reset();
  }

  /** Every path but the lean one: another state, a timeout, or the caller's signal. */
  #enter<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T | F> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#state !== CLOSED) {
      if (this.#isolations > 0) return this.#reject('open');
      const now = this.#clock.now();
      if (this.#state === OPEN) {
        if (now < this.#retryAt) return this.#reject('open');
        this.#transition(HALF_OPEN, undefined);
      } else if (this.#trialRunning) {
        // Without a timeout a hung trial would hold the circuit half-open for ever.
        if (
          this.#options.timeoutMs > 0 ||
          now - this.#trialStartedAt < this.#options.halfOpenAfterMs
        ) {
          return this.#reject('half-open');
        }
        this.#transition(OPEN, 'trial-hung');
        return this.#reject('open');
      }
      this.#trialRunning = true;
      this.#trialStartedAt = now;
    }
    return guardedCall(this.#host, this.#epoch, fn, signal);
  }

  /** Makes the lean path's handlers for the current epoch. */
  #handlers(): void {
    const epoch = this.#epoch;
    const window = this.#window;
    // Used only by calls started while closed; the success path of #record, inlined.
    this.#ok = (value) => {
      this.#counts.success++;
      if (epoch === this.#epoch) {
        this.#consecutive = 0;
        window?.record(false);
      }
      if (this.successListened) this.emit('success', this.#successEvent);
      return value;
    };
    this.#fail = (error) => {
      const outcome = this.#classify(error, undefined);
      this.#record(epoch, outcome, error);
      if (outcome === 'failure' && this.#options.fallback !== undefined) {
        return this.#fallbackOr(error);
      }
      throw error;
    };
  }

  #classify(error: unknown, signal: AbortSignal | undefined): Outcome {
    if (signal?.aborted) return 'aborted';
    const isFailure = this.#options.isFailure;
    if (isFailure === undefined) return 'failure';
    try {
      return isFailure(error) ? 'failure' : 'ignored';
    } catch {
      return 'failure';
    }
  }

  /** Counts a call's outcome; decides the state only for calls of the current epoch. */
  #record(epoch: number, outcome: Outcome, error: unknown): void {
    const current = epoch === this.#epoch;
    switch (outcome) {
      case 'success':
      case 'ignored':
        this.#counts[outcome]++;
        if (current) {
          if (this.#state === HALF_OPEN) this.#transition(CLOSED, 'trial-succeeded');
          else if (this.#state === CLOSED) {
            this.#consecutive = 0;
            this.#window?.record(false);
          }
        }
        if (outcome === 'success' && this.successListened) {
          this.emit('success', this.#successEvent);
        }
        return;
      case 'aborted':
        this.#counts.ignored++;
        if (current && this.#state === HALF_OPEN) this.#trialRunning = false;
        return;
      default:
        this.#counts[outcome]++;
        if (outcome === 'timeout') {
          this.emit('timeout', { breaker: this.name, timeoutMs: this.#options.timeoutMs });
        } else {
          this.emit('failure', { breaker: this.name, error });
        }
        if (current) this.#failed();
    }
  }

  #failed(): void {
    if (this.#state === HALF_OPEN) {
      this.#transition(OPEN, 'trial-failed');
      return;
    }
    if (this.#state !== CLOSED) return;
    this.#consecutive++;
    const { consecutiveFailures, errorRate } = this.#options;
    if (consecutiveFailures > 0 && this.#consecutive >= consecutiveFailures) {
      this.#transition(OPEN, 'consecutive-failures');
      return;
    }
    const window = this.#window;
    if (window === undefined || errorRate === undefined) return;
    window.record(true);
    if (
      window.calls >= errorRate.minimumCalls &&
      window.failures / window.calls >= errorRate.threshold
    ) {
      this.#transition(OPEN, 'error-rate');
    }
  }

  #transition(to: number, reason: OpenReason | CloseReason | undefined): void {
    const from = this.#state;
    const failures = this.#consecutive;
    const now = this.#clock.now();
    const errorRate = this.#window?.rate ?? null;
    this.#state = to;
    this.#epoch++;
    this.#handlers();
    this.#trialRunning = false;
    this.#lastChange = {
      at: new Date(this.#clock.epochNow()).toISOString(),
      from: NAMES[from]!,
      to: NAMES[to]!,
      reason: reason ?? 'half-open-after',
    };
    if (to === HALF_OPEN) {
      this.emit('half-open', { breaker: this.name });
      return;
    }
    this.#reset();
    if (to === CLOSED) {
      this.emit('close', { breaker: this.name, reason: reason as CloseReason });
      return;
    }
    const isolated = this.#isolations > 0;
    this.#retryAt = isolated ? Number.POSITIVE_INFINITY : now + this.#options.halfOpenAfterMs;
    this.emit('open', {
      breaker: this.name,
      reason: reason as OpenReason,
      failures,
      errorRate,
      retryAt: isolated ? null : this.#epochOf(this.#retryAt),
    });
  }

  #reset(): void {
    this.#consecutive = 0;
    this.#window?.reset();
  }

  /** The epoch time of a monotonic clock reading. */
  #epochOf(monotonic: number): number {
    return this.#clock.epochNow() + (monotonic - this.#clock.now());
  }

  #reject(state: 'open' | 'half-open'): Promise<F> {
    this.#counts.rejected++;
    const retryAt =
      state === 'open' && this.#isolations === 0 ? this.#epochOf(this.#retryAt) : null;
    const error = new CircuitOpenError(this.name, state, retryAt);
    this.emit('rejected', { breaker: this.name, state });
    return new Promise((resolve, reject) => this.#answerFailure(resolve, reject, error));
  }

  /** Settles with the fallback's answer to `error`, or rejects with `error` without a fallback. */
  #answerFailure(
    resolve: (value: F | PromiseLike<F>) => void,
    reject: (reason: unknown) => void,
    error: unknown,
  ): void {
    try {
      resolve(this.#fallbackOr(error));
    } catch (thrown) {
      reject(thrown);
    }
  }

  /** The fallback's answer to `error` (a promise when it is async); `error` thrown without one. */
  #fallbackOr(error: unknown): F | PromiseLike<F> {
    const fallback = this.#options.fallback;
    if (fallback === undefined) throw error;
    this.#counts.fallback++;
    return fallback(error) as F | PromiseLike<F>;
  }
}
