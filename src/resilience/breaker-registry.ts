import { Emitter } from '../core/events.js';
import type { MetricFamily } from '../performance/prometheus.js';
import { breakerComponents } from './breaker-health.js';
import { breakerMetricFamilies } from './breaker-metrics.js';
import type {
  BreakerEvents,
  BreakerSnapshot,
  BreakerState,
  ListedBreaker,
} from './breaker-types.js';
import type { HealthProbe } from './health-types.js';

/**
 * A change of state of a listed breaker, as {@link BreakerRegistry} reports it.
 *
 * @example
 * ```ts
 * registry.on('state-change', ({ breaker, to, reason }) => {
 *   if (to === 'open') alerts.raise({ name: 'CircuitOpen', labels: { breaker }, summary: reason });
 * });
 * ```
 */
export interface BreakerStateChange {
  breaker: string;
  to: BreakerState;
  /** Why it opened or closed (`half-open-after` for the trial). */
  reason: string;
  /** Epoch ms. */
  at: number;
}

/**
 * The events of a {@link BreakerRegistry}.
 *
 * @example
 * ```ts
 * const listener: (...args: BreakerRegistryEvents['state-change']) => void = (change) => log.warn(change);
 * defaultBreakerRegistry().on('state-change', listener);
 * ```
 */
export interface BreakerRegistryEvents {
  /** A listed breaker changed state. */
  'state-change': [event: BreakerStateChange];
}

interface Listed {
  breaker: ListedBreaker;
  stop: () => void;
}

/**
 * The breakers of a process (or of whatever owns the registry), by name: what `/health`,
 * Prometheus and the dashboard list, and one place to hear every opening. A breaker added under a
 * name already listed replaces the earlier one there (the earlier one keeps working, unlisted), so
 * a module built again (tests, hot reload) never fails on its breakers' names.
 *
 * @example
 * ```ts
 * const registry = defaultBreakerRegistry();
 * registry.list();                       // [{ name: 'payments', state: 'closed', counts: {...}, ... }]
 * registry.metrics('enterprise_');       // Prometheus families
 * health.addProbe('circuit-breakers', registry.healthProbe());
 * ```
 */
export class BreakerRegistry extends Emitter<BreakerRegistryEvents> {
  readonly #listed = new Map<string, Listed>();

  /** Lists `breaker` under its name; returns what removes it (only if it is still the one listed). */
  add(breaker: ListedBreaker): () => void {
    this.#listed.get(breaker.name)?.stop();
    const name = breaker.name;
    const report = (to: BreakerState, reason: string) =>
      this.emit('state-change', { breaker: name, to, reason, at: Date.now() });
    const onOpen = (event: BreakerEvents['open'][0]) => report('open', event.reason);
    const onHalfOpen = () => report('half-open', 'half-open-after');
    const onClose = (event: BreakerEvents['close'][0]) => report('closed', event.reason);
    breaker.on('open', onOpen).on('half-open', onHalfOpen).on('close', onClose);
    const entry: Listed = {
      breaker,
      stop: () => {
        breaker.off('open', onOpen).off('half-open', onHalfOpen).off('close', onClose);
      },
    };
    this.#listed.set(name, entry);
    return () => {
      if (this.#listed.get(name) !== entry) return;
      entry.stop();
      this.#listed.delete(name);
    };
  }

  /** Removes the breaker listed as `name`; whether there was one. */
  remove(name: string): boolean {
    const entry = this.#listed.get(name);
    if (entry === undefined) return false;
    entry.stop();
    return this.#listed.delete(name);
  }

  /** The breaker listed as `name`. */
  get(name: string): ListedBreaker | undefined {
    return this.#listed.get(name)?.breaker;
  }

  /** How many breakers are listed. */
  get size(): number {
    return this.#listed.size;
  }

  /** Every listed breaker's snapshot, by name. */
  list(): BreakerSnapshot[] {
    return [...this.#listed.values()]
      .map((entry) => entry.breaker.snapshot())
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The breakers as Prometheus families: `<prefix>circuit_state{breaker}` (0 closed, 1
   * half-open, 2 open), `<prefix>circuit_calls_total{breaker,outcome}` and
   * `<prefix>circuit_opens_total{breaker}`.
   */
  metrics(prefix: string): MetricFamily[] {
    return breakerMetricFamilies(prefix, this.list(), this.#opens);
  }

  /**
   * A health probe with one component per breaker, `breaker:<name>`: `ok` while closed,
   * `degraded` while open or half-open (the service works without the dependency, or should),
   * never critical.
   */
  healthProbe(): HealthProbe {
    return (context) =>
      breakerComponents(context, this.list(), (name) => ({
        opens: this.opens(name),
        lastOpenedAt: this.lastOpenedAt(name),
      }));
  }

  /**
   * How many times the breaker listed as `name` opened since it was listed (0 for a name not
   * listed): the figure of `circuit_opens_total`.
   *
   * @example
   * ```ts
   * defaultBreakerRegistry().opens('cache.redis'); // 3
   * ```
   */
  opens(name: string): number {
    return this.#opens.get(name) ?? 0;
  }

  /**
   * When the breaker listed as `name` last opened (ISO time), `null` when it never did since it
   * was listed.
   *
   * @example
   * ```ts
   * defaultBreakerRegistry().lastOpenedAt('cache.redis'); // '2026-12-07T18:02:11.402Z'
   * ```
   */
  lastOpenedAt(name: string): string | null {
    const at = this.#lastOpened.get(name);
    return at === undefined ? null : new Date(at).toISOString();
  }

  /** Openings per breaker name, counted since it was listed. */
  readonly #opens = new Map<string, number>();
  readonly #lastOpened = new Map<string, number>();

  constructor() {
    super();
    this.on('state-change', ({ breaker, to, at }) => {
      if (to !== 'open') return;
      this.#opens.set(breaker, (this.#opens.get(breaker) ?? 0) + 1);
      this.#lastOpened.set(breaker, at);
    });
  }
}

const DEFAULT = Symbol.for('@revcopy/enterprise/breaker-registry');

/**
 * The process registry, where {@link circuitBreaker} lists breakers unless told otherwise, and
 * where the cache lists its remote tiers' breakers (`cache.<tier>`). Shared by the ESM and
 * CommonJS builds of the package.
 *
 * @example
 * ```ts
 * const open = defaultBreakerRegistry().list().filter((b) => b.state !== 'closed');
 * ```
 */
export function defaultBreakerRegistry(): BreakerRegistry {
  const holder = globalThis as { [DEFAULT]?: BreakerRegistry };
  holder[DEFAULT] ??= new BreakerRegistry();
  return holder[DEFAULT];
}
