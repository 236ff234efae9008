import type { Cache } from '../cache/cache.js';
import type { Enterprise } from '../enterprise.js';
import { MonitoringConfigError } from './errors.js';
import type { HealthComponent, HealthSnapshot, HealthStatus } from './snapshot.js';
import type { TasksSource } from './tasks-source.js';

/**
 * What a custom health check may resolve: a status, a boolean (`true` = ok), or a full answer.
 *
 * @example
 * ```ts
 * const answer: HealthCheckResult = { status: 'degraded', message: 'replica lag 12 s', details: { lagSeconds: 12 } };
 * ```
 */
export type HealthCheckResult =
  | HealthStatus
  | boolean
  | { status: HealthStatus; message?: string; details?: Record<string, unknown> };

/**
 * A custom health check; it is given `timeoutMs` to settle and is `down` when it throws.
 *
 * @example
 * ```ts
 * const search: HealthCheck = async () => {
 *   const { status } = await elastic.cluster.health();
 *   return status === 'green' ? 'ok' : { status: 'degraded', message: `cluster ${status}` };
 * };
 * ```
 */
export type HealthCheck = () => HealthCheckResult | Promise<HealthCheckResult>;

/**
 * Options of the `/health` checks (`createMonitoringRouter({ health })`).
 *
 * @example
 * ```ts
 * createMonitoringRouter({
 *   auth: token,
 *   health: {
 *     timeoutMs: 500,
 *     eventLoop: { degradedMs: 100 },
 *     checks: { payments: async () => (await fetch(paymentsUrl)).ok },
 *     critical: ['task-backend', 'payments'],
 *   },
 * });
 * ```
 */
export interface HealthOptions {
  /** Each check gives up after this long and reports `down`. @defaultValue 1000 */
  timeoutMs?: number;
  /**
   * A result is reused for this long, so that probes from several orchestrators and the real-time
   * stream cost one round of checks, not one each. @defaultValue 1000
   */
  cacheMs?: number;
  /** Event-loop delay (p99 of the last system sample) thresholds. */
  eventLoop?: {
    /** @defaultValue 200 */
    degradedMs?: number;
    /** @defaultValue 1000 */
    downMs?: number;
  };
  /** Your own checks by component name, e.g. `{ payments: () => pingPayments() }`. */
  checks?: Record<string, HealthCheck>;
  /**
   * Components whose `down` makes the whole service `down` (HTTP 503) rather than `degraded`.
   * @defaultValue ['task-backend', ...the names of `checks`]: the cache tiers are not critical
   * because the cache falls back to its other tiers when one is down.
   */
  critical?: readonly string[];
}

const SQL_TIERS = new Set(['postgres', 'sqlite', 'mysql']);

/**
 * @internal Runs the health checks of one router: reachability of the cache's remote tiers and of
 * the task backend (each under a short timeout), worker heartbeats, event-loop delay, custom checks.
 * Concurrent callers share one round of checks; a result is reused for `cacheMs`.
 */
export class HealthChecker {
  readonly #enterprise: Enterprise;
  readonly #tasks: TasksSource;
  readonly #timeoutMs: number;
  readonly #cacheMs: number;
  readonly #degradedMs: number;
  readonly #downMs: number;
  readonly #checks: Record<string, HealthCheck>;
  readonly #critical: ReadonlySet<string>;
  #last: { at: number; report: HealthSnapshot } | undefined;
  #running: Promise<HealthSnapshot> | undefined;

  constructor(enterprise: Enterprise, tasks: TasksSource, options: HealthOptions = {}) {
    this.#enterprise = enterprise;
    this.#tasks = tasks;
    this.#timeoutMs = positive(options.timeoutMs ?? 1000, 'health.timeoutMs');
    this.#cacheMs = nonNegative(options.cacheMs ?? 1000, 'health.cacheMs');
    this.#degradedMs = positive(
      options.eventLoop?.degradedMs ?? 200,
      'health.eventLoop.degradedMs',
    );
    this.#downMs = positive(options.eventLoop?.downMs ?? 1000, 'health.eventLoop.downMs');
    this.#checks = { ...options.checks };
    for (const [name, check] of Object.entries(this.#checks)) {
      if (typeof check !== 'function') {
        throw new MonitoringConfigError(
          'E_MONITORING_CONFIG',
          `health.checks.${name} is not a function`,
          { option: `health.checks.${name}` },
        );
      }
    }
    this.#critical = new Set(options.critical ?? ['task-backend', ...Object.keys(this.#checks)]);
  }

  /** The health report, from the cache when it is younger than `maxAgeMs`. Never rejects. */
  check(maxAgeMs = this.#cacheMs): Promise<HealthSnapshot> {
    const last = this.#last;
    if (last !== undefined && performance.now() - last.at <= maxAgeMs) {
      return Promise.resolve(last.report);
    }
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** The last report computed, if any (for a snapshot that must not wait for a probe). */
  get last(): HealthSnapshot | undefined {
    return this.#last?.report;
  }

  async #run(): Promise<HealthSnapshot> {
    const components = (
      await Promise.all([
        this.#cacheComponents(),
        this.#taskComponents(),
        Promise.resolve([this.#eventLoop()]),
        ...Object.entries(this.#checks).map(([name, check]) => this.#custom(name, check)),
      ])
    ).flat();
    let status: HealthStatus = 'ok';
    for (const component of components) {
      const effective =
        component.status === 'down' && !component.critical ? 'degraded' : component.status;
      status = worst(status, effective);
    }
    const report: HealthSnapshot = {
      status,
      checkedAt: new Date().toISOString(),
      components,
    };
    this.#last = { at: performance.now(), report };
    return report;
  }

  #component(
    name: string,
    status: HealthStatus,
    latencyMs: number | null,
    message?: string,
    details?: Record<string, unknown>,
  ): HealthComponent {
    const component: HealthComponent = {
      name,
      status,
      critical: this.#critical.has(name),
      latencyMs: latencyMs === null ? null : Math.round(latencyMs * 100) / 100,
    };
    if (message !== undefined) component.message = message;
    if (details !== undefined) component.details = details;
    return component;
  }

  /**
   * The cache's remote tiers, each asked with `cache.ping()`: one round trip per tier through the
   * cache's own timeout and circuit breaker, reading and writing nothing. Redis tiers make the
   * `redis` component, SQL tiers the `database` one.
   */
  async #cacheComponents(): Promise<HealthComponent[]> {
    let cache: Cache;
    try {
      if (this.#enterprise.state === 'stopping' || this.#enterprise.state === 'stopped') return [];
      cache = this.#enterprise.cache;
    } catch {
      return [];
    }
    const outcome = await withTimeout(cache.ping(), this.#timeoutMs);
    const analytics = new Map(cache.analytics().tiers.map((tier) => [tier.name, tier]));
    const remote = outcome === TIMED_OUT ? undefined : outcome.filter((tier) => !tier.local);
    const names =
      remote?.map((tier) => tier.name) ?? [...analytics.keys()].filter((name) => name !== 'memory');
    const byComponent = new Map<string, HealthComponent[]>();
    for (const name of names) {
      const component = name === 'redis' ? 'redis' : SQL_TIERS.has(name) ? 'database' : name;
      const answer = remote?.find((tier) => tier.name === name);
      const figures = analytics.get(name);
      const circuit = answer?.circuit ?? figures?.circuit ?? 'closed';
      let status: HealthStatus = 'ok';
      let message: string | undefined;
      if (answer === undefined) {
        status = 'down';
        message = `no answer within ${this.#timeoutMs} ms`;
      } else if (!answer.ok) {
        status = 'down';
        message = answer.error;
      } else if (circuit !== 'closed') {
        status = 'degraded';
        message = `circuit ${circuit}`;
      }
      const entry = this.#component(
        component,
        status,
        answer?.latencyMs ?? this.#timeoutMs,
        message,
        {
          source: 'cache',
          tier: name,
          circuit,
          errors: figures?.errors ?? 0,
          timeouts: figures?.timeouts ?? 0,
        },
      );
      const list = byComponent.get(component);
      if (list) list.push(entry);
      else byComponent.set(component, [entry]);
    }
    // Two tiers of one kind (two SQL tiers) are reported as one component: the worst of them.
    return [...byComponent.values()].map((list) =>
      list.reduce((a, b) => (rank(b.status) > rank(a.status) ? b : a)),
    );
  }

  /** The task backend's reachability and the workers' heartbeats, when the tasks module is enabled. */
  async #taskComponents(): Promise<HealthComponent[]> {
    if (!this.#tasks.enabled) return [];
    const started = performance.now();
    let stats: Awaited<ReturnType<TasksSource['overview']>>;
    try {
      const outcome = await withTimeout(this.#tasks.overview(), this.#timeoutMs);
      if (outcome === TIMED_OUT) {
        return [
          this.#component(
            'task-backend',
            'down',
            performance.now() - started,
            `no answer within ${this.#timeoutMs} ms`,
          ),
        ];
      }
      stats = outcome;
    } catch (error) {
      return [
        this.#component(
          'task-backend',
          'down',
          performance.now() - started,
          (error as Error)?.message ?? String(error),
        ),
      ];
    }
    const latencyMs = performance.now() - started;
    const backend = this.#component('task-backend', 'ok', latencyMs, undefined, {
      backend: stats.backend,
      queues: stats.queues.length,
    });
    const total = stats.workers.length;
    const healthy = stats.workers.filter((worker) => worker.healthy).length;
    let status: HealthStatus = 'ok';
    let message: string | undefined;
    if (total > 0 && healthy === 0) {
      status = 'down';
      message = `all ${total} worker pools are unhealthy`;
    } else if (healthy < total) {
      status = 'degraded';
      message = `${total - healthy} of ${total} worker pools are unhealthy`;
    } else if (total === 0) {
      message = 'no worker pool is running';
    }
    const workers = this.#component('task-workers', status, null, message, {
      total,
      healthy,
      unhealthy: stats.workers.filter((worker) => !worker.healthy).map((worker) => worker.id),
    });
    return [backend, workers];
  }

  #eventLoop(): HealthComponent {
    const sample = this.#enterprise.performance.system();
    if (sample === null) {
      return this.#component('event-loop', 'ok', null, 'system metrics are turned off');
    }
    const p99 = sample.eventLoop.delayP99Ms;
    const details = {
      delayP50Ms: sample.eventLoop.delayP50Ms,
      delayP99Ms: p99,
      delayMaxMs: sample.eventLoop.delayMaxMs,
      utilization: sample.eventLoop.utilization,
      degradedMs: this.#degradedMs,
      downMs: this.#downMs,
    };
    if (p99 >= this.#downMs) {
      return this.#component(
        'event-loop',
        'down',
        null,
        `delay p99 ${round(p99)} ms >= ${this.#downMs} ms`,
        details,
      );
    }
    if (p99 >= this.#degradedMs) {
      return this.#component(
        'event-loop',
        'degraded',
        null,
        `delay p99 ${round(p99)} ms >= ${this.#degradedMs} ms`,
        details,
      );
    }
    return this.#component('event-loop', 'ok', null, undefined, details);
  }

  async #custom(name: string, check: HealthCheck): Promise<HealthComponent> {
    const started = performance.now();
    try {
      const outcome = await withTimeout(
        Promise.resolve().then(() => check()),
        this.#timeoutMs,
      );
      const latencyMs = performance.now() - started;
      if (outcome === TIMED_OUT) {
        return this.#component(name, 'down', latencyMs, `no answer within ${this.#timeoutMs} ms`);
      }
      if (outcome === true || outcome === false) {
        return this.#component(name, outcome ? 'ok' : 'down', latencyMs);
      }
      if (typeof outcome === 'string') {
        return this.#component(name, isStatus(outcome) ? outcome : 'down', latencyMs);
      }
      if (outcome !== null && typeof outcome === 'object' && isStatus(outcome.status)) {
        return this.#component(name, outcome.status, latencyMs, outcome.message, outcome.details);
      }
      return this.#component(name, 'down', latencyMs, 'the check returned an invalid result');
    } catch (error) {
      return this.#component(
        name,
        'down',
        performance.now() - started,
        (error as Error)?.message ?? String(error),
      );
    }
  }
}

const TIMED_OUT = Symbol('timed out');

/** Races `promise` against an unref'd timer that is cleared as soon as either settles. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
    timer.unref();
  });
  // The losing promise may still reject later: that rejection is handled here, not left unhandled.
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function rank(status: HealthStatus): number {
  return status === 'ok' ? 0 : status === 'degraded' ? 1 : 2;
}

function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  return rank(b) > rank(a) ? b : a;
}

function isStatus(value: unknown): value is HealthStatus {
  return value === 'ok' || value === 'degraded' || value === 'down';
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function positive(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new MonitoringConfigError(
      'E_MONITORING_CONFIG',
      `${option}=${String(value)} is invalid: expected a positive number of milliseconds`,
      { option, value },
    );
  }
  return value;
}

function nonNegative(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new MonitoringConfigError(
      'E_MONITORING_CONFIG',
      `${option}=${String(value)} is invalid: expected a non-negative number of milliseconds`,
      { option, value },
    );
  }
  return value;
}
