import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
} from 'cockatiel';
import { DurationHistogram } from '../performance/histogram.js';
import { CacheTierError } from './errors.js';
import type { CacheTier, TierAnalytics } from './types.js';

/** Options of the protection around each remote tier. */
export interface TierGuardOptions {
  /** Each operation gives up after this long. @defaultValue 500 */
  timeoutMs?: number;
  /** Consecutive failures that open the circuit. @defaultValue 5 */
  failureThreshold?: number;
  /** How long an open circuit skips the tier before one probe call is let through. @defaultValue 5000 */
  halfOpenAfterMs?: number;
}

/** What the timer rejects with; never escapes this file. */
const TIMED_OUT = Symbol('timed out');

const STATES = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
} as const;

/**
 * Runs the operations of one remote tier under a per-operation timeout and a circuit breaker
 * (cockatiel), and keeps its figures. A down or slow tier then costs a caller at most the timeout,
 * and once the circuit is open, nothing at all until a probe finds it healthy again.
 *
 * @internal
 */
export class TierGuard<P> {
  readonly tier: CacheTier<P>;
  hits = 0;
  misses = 0;
  sets = 0;
  deletes = 0;
  errors = 0;
  timeouts = 0;
  readonly #latency = new DurationHistogram();
  #latencySum = 0;
  readonly #breaker;
  readonly #timeoutMs: number;
  readonly #deadlines: Deadlines;

  constructor(
    tier: CacheTier<P>,
    options: TierGuardOptions,
    onCircuit: (state: TierAnalytics['circuit']) => void,
  ) {
    this.tier = tier;
    this.#breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.halfOpenAfterMs ?? 5_000,
      breaker: new ConsecutiveBreaker(options.failureThreshold ?? 5),
    });
    this.#breaker.onStateChange((state) => onCircuit(STATES[state]));
    this.#timeoutMs = options.timeoutMs ?? 500;
    this.#deadlines = new Deadlines(this.#timeoutMs);
  }

  /** `closed`, `open` or `half-open`. */
  get circuit(): TierAnalytics['circuit'] {
    return STATES[this.#breaker.state];
  }

  /**
   * Runs `operation` against the tier. Rejects with a {@link CacheTierError} on failure, timeout or
   * open circuit; never hangs longer than the timeout.
   */
  async run<T>(name: string, operation: (tier: CacheTier<P>) => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      // The timeout is a plain timer race inside the breaker, so a timeout counts as a failure.
      // (cockatiel's own timeout policy costs an AbortController and an error object per call,
      // several times the cost of a Redis GET.)
      const result = await this.#breaker.execute(() => this.#withTimeout(operation));
      this.#observe(started);
      return result;
    } catch (error) {
      this.errors++;
      if (error === TIMED_OUT) {
        this.timeouts++;
        this.#observe(started);
        throw new CacheTierError(`cache tier "${this.tier.name}" timed out on ${name}`, {
          tier: this.tier.name,
          operation: name,
          reason: 'timeout',
          timeoutMs: this.#timeoutMs,
        });
      }
      if (error instanceof BrokenCircuitError) {
        throw new CacheTierError(`cache tier "${this.tier.name}" is skipped: its circuit is open`, {
          tier: this.tier.name,
          operation: name,
          reason: 'circuit-open',
        });
      }
      this.#observe(started);
      throw new CacheTierError(
        `cache tier "${this.tier.name}" failed on ${name}: ${(error as Error)?.message ?? String(error)}`,
        { tier: this.tier.name, operation: name, reason: 'error' },
        error,
      );
    }
  }

  #withTimeout<T>(operation: (tier: CacheTier<P>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const watch = this.#deadlines.watch(reject);
      let pending: Promise<T>;
      try {
        pending = operation(this.tier);
      } catch (error) {
        watch.done = true;
        reject(error);
        return;
      }
      // Settling after the timeout is harmless: the promise has already rejected, and a late
      // rejection of the operation is handled here rather than reported as unhandled.
      pending.then(
        (value) => {
          watch.done = true;
          resolve(value);
        },
        (error: unknown) => {
          watch.done = true;
          reject(error);
        },
      );
    });
  }

  #observe(started: number): void {
    const ms = performance.now() - started;
    this.#latency.record(ms * 1000);
    this.#latencySum += ms;
  }

  analytics(): TierAnalytics {
    const count = this.#latency.total;
    const at = (p: number) => (count === 0 ? null : this.#latency.percentile(p) / 1000);
    return {
      name: this.tier.name,
      hits: this.hits,
      misses: this.misses,
      sets: this.sets,
      deletes: this.deletes,
      errors: this.errors,
      timeouts: this.timeouts,
      circuit: this.circuit,
      latency: {
        count,
        mean: count === 0 ? null : this.#latencySum / count,
        p50: at(50),
        p95: at(95),
        p99: at(99),
      },
    };
  }
}

/** One operation under watch. */
interface Watch {
  readonly deadline: number;
  readonly reject: (reason: unknown) => void;
  done: boolean;
}

/**
 * The timeouts of one tier's operations. They all have the same length, so their deadlines come
 * in the order the operations started: a queue and one timer, armed for the oldest operation
 * still running, replace a timer per operation (arming and clearing a timer per call costs more
 * than the checks here, and shows on a Redis GET).
 */
class Deadlines {
  #queue: Watch[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  watch(reject: (reason: unknown) => void): Watch {
    const watch: Watch = { deadline: performance.now() + this.timeoutMs, reject, done: false };
    this.#queue.push(watch);
    if (this.#timer === undefined) this.#arm(this.timeoutMs);
    return watch;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, delay));
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const watch = queue[this.#head]!;
      if (!watch.done && watch.deadline > now) break;
      if (!watch.done) {
        watch.done = true;
        watch.reject(TIMED_OUT);
      }
      this.#head++;
    }
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
      return;
    }
    if (this.#head > 1024) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
    this.#arm(this.#queue[this.#head]!.deadline - now);
  }
}
