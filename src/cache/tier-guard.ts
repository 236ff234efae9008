import { DurationHistogram } from '../performance/histogram.js';
import { defaultTracer, type Tracer } from '../performance/tracer.js';
import type { Breaker } from '../resilience/breaker.js';
import type { BreakerRegistry } from '../resilience/breaker-registry.js';
import { defaultBreakerRegistry } from '../resilience/breaker-registry.js';
import { circuitBreaker } from '../resilience/circuit-breaker.js';
import { CircuitOpenError, CircuitTimeoutError } from '../resilience/errors.js';
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
  /**
   * Where each tier's circuit breaker is listed (as `cache.<tier>`) for `/health`, Prometheus and
   * the dashboard, or `false` for nowhere. @defaultValue the process registry
   */
  registry?: BreakerRegistry | false;
}

/**
 * Runs the operations of one remote tier through a circuit breaker of the resilience module (with
 * the per-operation timeout), and keeps its figures. A down or slow tier then costs a caller at
 * most the timeout, and once the circuit is open, nothing at all until a probe finds it healthy
 * again. The breaker is listed as `cache.<tier>` with every other breaker of the process.
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
  readonly #breaker: Breaker;
  readonly #timeoutMs: number;
  readonly #unlist: () => void;
  /** `L2`, `L3`, ...: the tier's place in the stack, an attribute of its spans. */
  readonly #level: string;
  readonly #tracer: Tracer;

  constructor(
    tier: CacheTier<P>,
    options: TierGuardOptions,
    onCircuit: (state: TierAnalytics['circuit']) => void,
    level = 'L2',
    tracer: Tracer = defaultTracer(),
  ) {
    this.tier = tier;
    this.#level = level;
    this.#tracer = tracer;
    this.#timeoutMs = options.timeoutMs ?? 500;
    this.#breaker = circuitBreaker(`cache.${tier.name}`, {
      consecutiveFailures: options.failureThreshold ?? 5,
      halfOpenAfterMs: options.halfOpenAfterMs ?? 5_000,
      timeoutMs: this.#timeoutMs,
      registry: false,
    });
    this.#breaker
      .on('open', () => onCircuit('open'))
      .on('half-open', () => onCircuit('half-open'))
      .on('close', () => onCircuit('closed'));
    const registry = options.registry ?? defaultBreakerRegistry();
    this.#unlist = registry === false ? () => {} : registry.add(this.#breaker);
  }

  /** `closed`, `open` or `half-open`. */
  get circuit(): TierAnalytics['circuit'] {
    return this.#breaker.state;
  }

  /**
   * Runs `operation` against the tier. Rejects with a {@link CacheTierError} on failure, timeout or
   * open circuit; never hangs longer than the timeout. With an OpenTelemetry SDK registered, the
   * call is a client span `cache.<operation>` with the tier and its level as attributes.
   */
  run<T>(name: string, operation: (tier: CacheTier<P>) => Promise<T>): Promise<T> {
    if (!this.#tracer.otel) return this.#run(name, operation);
    const span = this.#tracer.start(`cache.${name}`, {
      kind: 'client',
      parent: 'current',
      attributes: {
        'cache.tier': this.tier.name,
        'cache.level': this.#level,
        'cache.operation': name,
      },
    });
    return span
      .run(() => this.#run(name, operation))
      .then(
        (result) => {
          span.end();
          return result;
        },
        (error: unknown) => {
          span.end(true, error);
          throw error;
        },
      );
  }

  async #run<T>(name: string, operation: (tier: CacheTier<P>) => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await this.#breaker.execute(() => operation(this.tier));
      this.#observe(started);
      return result;
    } catch (error) {
      this.errors++;
      if (error instanceof CircuitTimeoutError && error.breaker === this.#breaker.name) {
        this.timeouts++;
        this.#observe(started);
        throw new CacheTierError(`cache tier "${this.tier.name}" timed out on ${name}`, {
          tier: this.tier.name,
          operation: name,
          reason: 'timeout',
          timeoutMs: this.#timeoutMs,
        });
      }
      if (error instanceof CircuitOpenError && error.breaker === this.#breaker.name) {
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

  /** Takes the breaker out of its registry and stops its timer (at the cache's `close()`). */
  dispose(): void {
    this.#unlist();
    this.#breaker.dispose();
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
