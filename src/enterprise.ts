import type { Alerts } from './alerts/alerts.js';
import type { CapacityPlanner } from './analytics/capacity/planner.js';
import type { ClusterView } from './analytics/cluster/cluster-view.js';
import type { Analytics } from './analytics/events/analytics.js';
import type { MetricsHistory } from './analytics/history/metrics-history.js';
import type { Reports } from './analytics/reports/reports.js';
import type { Cache } from './cache/cache.js';
import { type ResolvedConfig, resolveConfig } from './core/config.js';
import { provideDefaultFactory } from './core/default-instance.js';
import {
  type DrainReport,
  type DrainTarget,
  GracefulShutdown,
  resolveShutdownSettings,
  type ShutdownSignal,
} from './core/graceful-shutdown.js';
import { Lifecycle, type LifecycleState } from './core/lifecycle.js';
import { createDefaultLogger, type Logger, wrapLogger } from './core/logger.js';
import { InstanceModules } from './enterprise/instance-modules.js';
import { type HostedModuleBuilder, registerHostedModule } from './enterprise/module-registry.js';
import type { BuiltOnUse, EnterpriseOptions, StartOptions } from './enterprise-options.js';
import type { Maintenance } from './maintenance/maintenance.js';
import { PerformanceMonitor } from './performance/performance-monitor.js';
import type { Security } from './security/security.js';
import type { TaskManager } from './tasks/manager.js';

/** @internal For `src/compose/*.ts`, which reach the registry through the composition root. */
export { isModuleLoaded, registerProcessCollector } from './enterprise/module-registry.js';
export type { BuiltOnUse, EnterpriseOptions, StartOptions } from './enterprise-options.js';

/**
 * @internal How the composition builds, starts and stops one built-on-use module. Each module's
 * builder is registered by the entries that include the module (`src/compose/*.ts`), so an entry
 * that leaves a module out never loads its code.
 */
export type ModuleBuilder<T> = HostedModuleBuilder<T, Enterprise>;

/** @internal Registers how `name` is built; the first registration stays. */
export const registerModule: <Name extends keyof BuiltOnUse>(
  name: Name,
  builder: ModuleBuilder<BuiltOnUse[Name]>,
) => void = registerHostedModule;

/**
 * One isolated set of enterprise services: its own configuration, logger and performance monitor,
 * and the cache and task manager it builds on first use. Build one with {@link createEnterprise};
 * the process default is managed by {@link configure} and {@link getEnterprise}.
 *
 * @example
 * ```ts
 * const enterprise = createEnterprise({ performance: { alertThresholdMs: 500 } });
 * await enterprise.start();
 * process.on('SIGTERM', () => enterprise.shutdown());
 * ```
 */
export class Enterprise {
  /** The validated configuration (options > environment > defaults). */
  readonly config: ResolvedConfig;
  /** The instance's structured logger; each module logs through a child carrying its `module`. */
  readonly logger: Logger;
  /** Performance monitoring: statistics, slow calls, bottlenecks, system metrics, Prometheus. */
  readonly performance: PerformanceMonitor;
  readonly #lifecycle: Lifecycle;
  readonly #modules: InstanceModules<Enterprise>;
  readonly #graceful: GracefulShutdown;

  constructor(options: EnterpriseOptions = {}) {
    this.config = resolveConfig(options);
    const root =
      options.logger === undefined
        ? createDefaultLogger(this.config.logLevel)
        : wrapLogger(options.logger);
    this.logger = root.child({ module: 'enterprise' });
    this.#lifecycle = new Lifecycle(root.child({ module: 'lifecycle' }));
    this.#graceful = new GracefulShutdown(
      resolveShutdownSettings(options.shutdown),
      root.child({ module: 'shutdown' }),
      () => this.shutdown(),
    );
    this.performance = new PerformanceMonitor(
      { clock: this.config.clock, ...this.config.performance },
      root.child({ module: 'performance' }),
    );
    const performance = this.performance;
    this.#lifecycle.add({
      name: 'performance',
      start: () => performance.start(),
      stop: () => performance.stop(),
    });
    this.#modules = new InstanceModules<Enterprise>(this, options);
    this.#modules.compose(this.#lifecycle);
  }

  /**
   * Background tasks: submit, inspect, wait for and cancel tasks; worker pools and the scheduler
   * run once the instance is started. The backend is Redis when `REDIS_URL` (or `redisUrl`) is
   * set, memory otherwise, unless `tasks.backend` says otherwise.
   *
   * @example
   * ```ts
   * const id = await enterprise.tasks.submit('send_welcome_email', 'ada@example.com');
   * const { queues } = await enterprise.tasks.stats();
   * ```
   */
  get tasks(): TaskManager {
    return this.#modules.get('tasks');
  }

  /**
   * The multi-tier cache. Built on first use: memory alone, or memory and Redis when `REDIS_URL`
   * (or `redisUrl`) is set, unless `cache.tiers` says otherwise.
   *
   * @example
   * ```ts
   * const user = await enterprise.cache.getOrSet(`user:${id}`, () => db.users.find(id), { ttl: '10m' });
   * ```
   */
  get cache(): Cache {
    return this.#modules.get('cache');
  }

  /**
   * Alerts: rules over the modules' figures, their lifecycle, silences, acknowledgements,
   * escalation and notification channels. Built and started by `start()` (unless `alerts: false`),
   * or on first use.
   *
   * @example
   * ```ts
   * enterprise.alerts.rule({ name: 'CheckoutSlow', watch: 'operation.p95', condition: { above: 800 } });
   * const firing = enterprise.alerts.list({ state: 'firing' });
   * ```
   */
  get alerts(): Alerts {
    return this.#modules.get('alerts');
  }

  /**
   * Security monitoring: request screening, login analytics, client risk and bans, rate limits
   * with dynamic thresholds, the security score. Built and started by `start()` when `security`
   * options are given, or on first use (the middleware's `security: true`).
   *
   * @example
   * ```ts
   * enterprise.security.recordLogin({ userId: 'ada', ip: req.ip, success: false });
   * await enterprise.security.ban('203.0.113.7', '1h', 'credential stuffing');
   * enterprise.security.score().score; // 0 to 100
   * ```
   */
  get security(): Security {
    return this.#modules.get('security');
  }

  /**
   * Product analytics: `track()` events, active users, event counts, funnels and retention
   * cohorts. Built and started by `start()` when `analytics` options are given, or on first use.
   *
   * @example
   * ```ts
   * enterprise.analytics.track('signup', { userId: user.id });
   * const { activeUsers } = await enterprise.analytics.overview();
   * ```
   */
  get analytics(): Analytics {
    return this.#modules.get('analytics');
  }

  /**
   * The metrics history: per-minute rollups of every operation (exact merged percentiles) and of
   * system, cache and task figures. Built and started by `start()` when `analytics` options are
   * given (unless `analytics.history: false`), or on first use.
   *
   * @example
   * ```ts
   * const series = await enterprise.history.query({ operation: 'GET /users', from: Date.now() - 3_600_000, to: Date.now(), step: '5m' });
   * ```
   */
  get history(): MetricsHistory {
    return this.#modules.get('history');
  }

  /**
   * The cluster view: this instance's heartbeat and live figures published to Redis under the
   * deployment's prefix, and summaries of every instance alive (`?scope=cluster` of the monitoring
   * router). Built and started by `start()` when `analytics.cluster` is given, or on first use.
   *
   * @example
   * ```ts
   * const { instances, operations } = await enterprise.cluster.performance();
   * ```
   */
  get cluster(): ClusterView {
    return this.#modules.get('cluster');
  }

  /**
   * The seven maintenance tasks: `enable()` registers and schedules them, `run(name)` runs one
   * now, `list()` shows schedules and recorded results. Built and enabled by `start()` when
   * `maintenance` options are given, or built on first use.
   *
   * @example
   * ```ts
   * enterprise.maintenance.enable({ database: { postgres: pool } });
   * const result = await enterprise.maintenance.run('optimize_database');
   * ```
   */
  get maintenance(): Maintenance {
    return this.#modules.get('maintenance');
  }

  /**
   * Capacity forecasts: when heap, RSS, event-loop delay and task queues reach their limits, from
   * the metrics history (Holt's linear trend with a prediction interval). Built by `start()` with
   * the history, or on first use.
   *
   * @example
   * ```ts
   * const { resources } = await enterprise.capacity.forecast({ horizon: '7d' });
   * for (const r of resources) console.log(r.name, r.status, r.reachesAt, r.earliestAt);
   * ```
   */
  get capacity(): CapacityPlanner {
    return this.#modules.get('capacity');
  }

  /**
   * Reports: definitions of sections over a period, generated as JSON, CSV or a self-contained
   * HTML page, on demand or on a cron schedule, delivered to channels or a directory. Built by
   * `start()` when `reports` options are given, or on first use.
   *
   * @example
   * ```ts
   * enterprise.reports.define('daily', { sections: ['performance', 'slowest', 'capacity'], period: 'day' });
   * const { body } = await enterprise.reports.generate('daily', { format: 'html' });
   * ```
   */
  get reports(): Reports {
    return this.#modules.get('reports');
  }

  /**
   * The module `name` if it has been built, `undefined` otherwise; never builds it. What observes
   * an instance (the monitoring router, health checks, the real-time stream) reads modules this
   * way, so that looking at a process never opens a connection its own code did not ask for.
   *
   * @example
   * ```ts
   * const hitRatio = enterprise.peek('cache')?.analytics().hitRatio ?? null;
   * if (enterprise.peek('tasks') === undefined) console.log('no task was submitted here');
   * ```
   */
  peek<Name extends keyof BuiltOnUse>(name: Name): BuiltOnUse[Name] | undefined {
    return this.#modules.peek(name);
  }

  /** `created`, `starting`, `started`, `stopping` or `stopped`. */
  get state(): LifecycleState {
    return this.#lifecycle.state;
  }

  /**
   * Starts background work: the system metrics sampler, cache warmers, and the task worker pools
   * and scheduler (`{ workers: false }` for a process that only submits tasks, `{ scheduler: false }`
   * to leave schedules to other processes). Idempotent. Monitoring itself works without it.
   *
   * @example
   * ```ts
   * await enterprise.start();                     // a worker process
   * await enterprise.start({ workers: false });   // a web process that only submits
   * ```
   */
  start(options: StartOptions = {}): Promise<void> {
    if (this.state === 'created') {
      this.#modules.startOptions = options;
      if (this.#graceful.settings.signals.length > 0) this.#graceful.listen();
    }
    return this.#lifecycle.start();
  }

  /**
   * Stops every timer, drains in-flight work and closes the connections this instance opened (never
   * the ones it was given). Idempotent; the instance cannot be started again afterwards. For a
   * shutdown a load balancer notices first, see {@link Enterprise.drain}.
   */
  shutdown(): Promise<void> {
    const deadline = this.#graceful.deadlineAt;
    // Running tasks are handed back a little before the deadline, so the hand-back fits in it.
    const margin = Math.min(2_000, this.#graceful.settings.deadlineMs / 5);
    return this.#lifecycle
      .shutdown(deadline === undefined ? undefined : deadline - margin)
      .finally(() => {
        if (!this.#graceful.draining) this.#graceful.dispose();
      });
  }

  /** True from the start of a graceful shutdown ({@link Enterprise.drain}): readiness answers 503. */
  get draining(): boolean {
    return this.#graceful.draining;
  }

  /**
   * The graceful shutdown, as a signal starts it: `/health/ready` answers 503 at once; after
   * `shutdown.readinessDelay` the servers and hooks given to {@link Enterprise.onDrain} close
   * (requests in flight finish); then the instance shuts down (workers finish or hand back their
   * tasks, the scheduler stops, connections close). At `shutdown.deadline` what is left is cut.
   * Idempotent; never exits the process (signals do, see `shutdown.exit`).
   *
   * @example
   * ```ts
   * const report = await enterprise.drain(); // { outcome: 'clean', durationMs: 5210, exitCode: 0 }
   * ```
   */
  drain(): Promise<DrainReport> {
    return this.#graceful.drain();
  }

  /**
   * Follows `signals` (default `shutdown.signals`, else SIGTERM and SIGINT): the first starts
   * {@link Enterprise.drain}, a second cuts it short, and the process then exits (`shutdown.exit`).
   * `start()` calls it when `shutdown.signals` is given. Returns what removes the listeners.
   *
   * @example
   * ```ts
   * enterprise.handleSignals(['SIGTERM']);
   * ```
   */
  handleSignals(signals?: readonly ShutdownSignal[]): () => void {
    const given = signals ?? this.#graceful.settings.signals;
    if (signals !== undefined) resolveShutdownSettings({ signals });
    return this.#graceful.listen(given.length > 0 ? given : ['SIGTERM', 'SIGINT']);
  }

  /**
   * Closes `target` during a graceful shutdown, after the readiness delay: a Node server (stops
   * accepting, waits for requests in flight, closes what is still open at the deadline), or a
   * function (`() => fastify.close()`). The Node adapters register the server they serve from.
   * Returns what unregisters it.
   *
   * @example
   * ```ts
   * const server = app.listen(3000);
   * enterprise.onDrain(server);
   * ```
   */
  onDrain(target: DrainTarget): () => void {
    return this.#graceful.add(target);
  }
}

/**
 * Builds an isolated instance, for tests and multi-tenant hosts. Reads the environment now (not at
 * import) and throws `ConfigError` for any invalid value.
 *
 * @example
 * ```ts
 * const enterprise = createEnterprise({ env: { PERFORMANCE_ALERT_THRESHOLD_MS: '250' } });
 * enterprise.performance.thresholdMs; // 250
 * ```
 */
export function createEnterprise(options: EnterpriseOptions = {}): Enterprise {
  return new Enterprise(options);
}

provideDefaultFactory(() => new Enterprise());
