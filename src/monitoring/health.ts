import { health } from '../resilience/default-health.js';
import {
  type HealthCheck,
  type HealthComponent,
  type HealthProbeContext,
  HealthRegistry,
  type HealthStatus,
  statusRank,
  TIMED_OUT,
} from '../resilience/health-registry.js';
import { MonitoringConfigError } from './errors.js';
import type { MonitoredInstance } from './monitored-instance.js';
import type { HealthSnapshot } from './snapshot.js';
import type { TasksSource } from './tasks-source.js';

export type { HealthCheck, HealthCheckResult } from '../resilience/health-registry.js';

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
 * @internal The `/health` checks of one router, on a {@link HealthRegistry}: reachability of the
 * cache's remote tiers and of the task backend, worker heartbeats, event-loop delay, the security
 * module's stores, custom checks. The modules are checked only once the instance has built them: a
 * process that never used its cache does not depend on Redis.
 */
export class HealthChecker {
  readonly #registry: HealthRegistry;

  constructor(enterprise: MonitoredInstance, tasks: TasksSource, options: HealthOptions = {}) {
    const timeoutMs = positive(options.timeoutMs ?? 1000, 'health.timeoutMs');
    const cacheMs = nonNegative(options.cacheMs ?? 1000, 'health.cacheMs');
    const degradedMs = positive(
      options.eventLoop?.degradedMs ?? 200,
      'health.eventLoop.degradedMs',
    );
    const downMs = positive(options.eventLoop?.downMs ?? 1000, 'health.eventLoop.downMs');
    const checks = { ...options.checks };
    for (const [name, check] of Object.entries(checks)) {
      if (typeof check !== 'function') {
        throw new MonitoringConfigError(
          'E_MONITORING_CONFIG',
          `health.checks.${name} is not a function`,
          { option: `health.checks.${name}` },
        );
      }
    }
    const registry = new HealthRegistry({
      timeoutMs,
      cacheMs,
      ...(options.critical === undefined ? {} : { critical: options.critical }),
    });
    registry.addProbe('cache', (context) => cacheComponents(enterprise, context));
    registry.addProbe('task-backend', (context) => taskComponents(tasks, context), {
      critical: ['task-backend'],
    });
    registry.addProbe('event-loop', (context) => [
      eventLoop(enterprise, context, degradedMs, downMs),
    ]);
    registry.addProbe('security', (context) => securityComponents(enterprise, context));
    for (const [name, check] of Object.entries(checks)) registry.register(name, check);
    // The application's own checks (`health.register`) and the process's circuit breakers.
    registry.addProbe('application', health.asProbe());
    this.#registry = registry;
  }

  /** The health report, from the cache when it is younger than `maxAgeMs`. Never rejects. */
  check(maxAgeMs?: number): Promise<HealthSnapshot> {
    return this.#registry.check(maxAgeMs);
  }

  /** The last report computed, if any (for a snapshot that must not wait for a probe). */
  get last(): HealthSnapshot | undefined {
    return this.#registry.last;
  }
}

/**
 * The built cache's remote tiers, each asked with `cache.ping()`: one round trip per tier through
 * the cache's own timeout and circuit breaker, reading and writing nothing. Redis tiers make the
 * `redis` component, SQL tiers the `database` one. No component while the cache is not built.
 */
async function cacheComponents(
  enterprise: MonitoredInstance,
  context: HealthProbeContext,
): Promise<HealthComponent[]> {
  if (enterprise.state === 'stopping' || enterprise.state === 'stopped') return [];
  const cache = enterprise.peek('cache');
  if (cache === undefined) return [];
  const { timeoutMs } = context;
  const outcome = await context.within(cache.ping());
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
      message = `no answer within ${timeoutMs} ms`;
    } else if (!answer.ok) {
      status = 'down';
      message = answer.error;
    } else if (circuit !== 'closed') {
      status = 'degraded';
      message = `circuit ${circuit}`;
    }
    const entry = context.component(component, status, answer?.latencyMs ?? timeoutMs, message, {
      source: 'cache',
      tier: name,
      circuit,
      errors: figures?.errors ?? 0,
      timeouts: figures?.timeouts ?? 0,
    });
    const list = byComponent.get(component);
    if (list) list.push(entry);
    else byComponent.set(component, [entry]);
  }
  // Two tiers of one kind (two SQL tiers) are reported as one component: the worst of them.
  return [...byComponent.values()].map((list) =>
    list.reduce((a, b) => (statusRank(b.status) > statusRank(a.status) ? b : a)),
  );
}

/** The task backend's reachability and the workers' heartbeats, once the tasks module is built. */
async function taskComponents(
  tasks: TasksSource,
  context: HealthProbeContext,
): Promise<HealthComponent[]> {
  if (!tasks.enabled) return [];
  const started = performance.now();
  let stats: Awaited<ReturnType<TasksSource['overview']>>;
  try {
    const outcome = await context.within(tasks.overview());
    if (outcome === TIMED_OUT) {
      return [
        context.component(
          'task-backend',
          'down',
          performance.now() - started,
          `no answer within ${context.timeoutMs} ms`,
        ),
      ];
    }
    stats = outcome;
  } catch (error) {
    return [
      context.component(
        'task-backend',
        'down',
        performance.now() - started,
        (error as Error)?.message ?? String(error),
      ),
    ];
  }
  const latencyMs = performance.now() - started;
  const backend = context.component('task-backend', 'ok', latencyMs, undefined, {
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
  const workers = context.component('task-workers', status, null, message, {
    total,
    healthy,
    unhealthy: stats.workers.filter((worker) => !worker.healthy).map((worker) => worker.id),
  });
  return [backend, workers];
}

/**
 * The security module's stores, once it is built: `degraded` while a rate limit's store is failing
 * (its insurance limiter, or fail-closed refusals, decide meanwhile) or the ban store holds writes
 * it could not make; requests are still served, so never `down`. Read from the module's own state:
 * no round trip.
 */
function securityComponents(
  enterprise: MonitoredInstance,
  context: HealthProbeContext,
): HealthComponent[] {
  if (enterprise.state === 'stopping' || enterprise.state === 'stopped') return [];
  const security = enterprise.peek('security');
  if (security === undefined) return [];
  const down = security.storeDown();
  const problems: string[] = [];
  if (down.rateLimits.length > 0) {
    problems.push(`rate-limit store failing for ${down.rateLimits.join(', ')}; decided locally`);
  }
  if (down.bans) problems.push('ban store unreachable; bans kept locally and retried');
  return [
    context.component(
      'security',
      problems.length === 0 ? 'ok' : 'degraded',
      null,
      problems.length === 0 ? undefined : problems.join('; '),
      { rateLimitStoresDown: down.rateLimits, banStoreDown: down.bans, mode: security.mode },
    ),
  ];
}

/** The event-loop delay of the last system sample against the thresholds. */
function eventLoop(
  enterprise: MonitoredInstance,
  context: HealthProbeContext,
  degradedMs: number,
  downMs: number,
): HealthComponent {
  const sample = enterprise.performance.system();
  if (sample === null) {
    return context.component('event-loop', 'ok', null, 'system metrics are turned off');
  }
  const p99 = sample.eventLoop.delayP99Ms;
  const details = {
    delayP50Ms: sample.eventLoop.delayP50Ms,
    delayP99Ms: p99,
    delayMaxMs: sample.eventLoop.delayMaxMs,
    utilization: sample.eventLoop.utilization,
    degradedMs,
    downMs,
  };
  const over = p99 >= downMs ? downMs : p99 >= degradedMs ? degradedMs : undefined;
  if (over === undefined) return context.component('event-loop', 'ok', null, undefined, details);
  return context.component(
    'event-loop',
    over === downMs ? 'down' : 'degraded',
    null,
    `delay p99 ${Math.round(p99 * 10) / 10} ms >= ${over} ms`,
    details,
  );
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
