import type { Alerts } from './alerts/alerts.js';
import type { CapacityPlanner } from './analytics/capacity/planner.js';
import type { ClusterView } from './analytics/cluster/cluster-view.js';
import type { Analytics } from './analytics/events/analytics.js';
import type { MetricsHistory } from './analytics/history/metrics-history.js';
import type { Reports } from './analytics/reports/reports.js';
import type { Cache } from './cache/cache.js';
import { type ResolvedConfig, resolveConfig } from './core/config.js';
import {
  defaultInstance,
  provideDefaultFactory,
  replaceDefaultInstance,
} from './core/default-instance.js';
import { LifecycleError } from './core/errors.js';
import {
  type DrainReport,
  type DrainTarget,
  GracefulShutdown,
  resolveShutdownSettings,
  type ShutdownSignal,
} from './core/graceful-shutdown.js';
import { Lifecycle, type LifecycleState } from './core/lifecycle.js';
import { createDefaultLogger, type Logger, wrapLogger } from './core/logger.js';
import type { BuiltOnUse, EnterpriseOptions, StartOptions } from './enterprise-options.js';
import type { Maintenance } from './maintenance/maintenance.js';
import { PerformanceMonitor } from './performance/performance-monitor.js';
import type { MetricFamily } from './performance/prometheus.js';
import type { Security } from './security/security.js';
import type { TaskManager } from './tasks/manager.js';

export type { BuiltOnUse, EnterpriseOptions, StartOptions } from './enterprise-options.js';

/**
 * @internal How the composition builds, starts and stops one built-on-use module. Each module's
 * builder is registered by the entries that include the module (`src/compose/*.ts`), so an entry
 * that leaves a module out never loads its code.
 */
export interface ModuleBuilder<T> {
  /** Checks the module's options when an instance is created, so bad ones fail at creation. */
  validate?(enterprise: Enterprise, options: EnterpriseOptions): void;
  build(enterprise: Enterprise, options: EnterpriseOptions): T;
  /** Starts a built module (at `start()`, or when first built on a started instance). */
  start(module: T, enterprise: Enterprise, options: StartOptions): Promise<void> | undefined;
  /** At `start()` when the module was not built yet: whether to build and start it now. */
  buildAtStart?(options: EnterpriseOptions): boolean;
  /**
   * At `start()` when the module is neither built nor built then: may watch for a reason to
   * build it later (a task handler registered after start); returns what stops watching.
   */
  waitForUse?(enterprise: Enterprise): () => void;
  /** `deadline` (epoch ms): during a graceful shutdown, when in-flight work must be done. */
  stop(module: T, deadline?: number): Promise<void> | undefined;
  /** Prometheus families, also declared (empty) before the module is built. */
  metrics?(prefix: string, module: T | undefined): MetricFamily[];
  /** Told when another module of the instance is built, to connect to it (alerts to tasks). */
  sibling?(enterprise: Enterprise, name: keyof BuiltOnUse, options: EnterpriseOptions): void;
}

type Builders = { [Name in keyof BuiltOnUse]?: ModuleBuilder<BuiltOnUse[Name]> };

// Shared by the ESM and CommonJS builds, like the default instance, so a module registered by
// either build can be built by an instance of the other.
const BUILDERS = Symbol.for('@revcopy/enterprise/module-builders');

function builders(): Builders {
  const holder = globalThis as { [BUILDERS]?: Builders };
  holder[BUILDERS] ??= {};
  return holder[BUILDERS];
}

/** @internal Registers how `name` is built; the first registration stays. */
export function registerModule<Name extends keyof BuiltOnUse>(
  name: Name,
  builder: ModuleBuilder<BuiltOnUse[Name]>,
): void {
  builders()[name] ??= builder as Builders[Name];
}

const MODULES: readonly (keyof BuiltOnUse)[] = [
  'cache',
  'tasks',
  'security',
  'analytics',
  'cluster',
  'history',
  'capacity',
  'alerts',
  'reports',
  'maintenance',
];

// Shared by both builds, like the builders.
const COLLECTORS = Symbol.for('@revcopy/enterprise/process-collectors');

function collectors(): Map<string, (prefix: string) => MetricFamily[]> {
  const holder = globalThis as { [COLLECTORS]?: Map<string, (prefix: string) => MetricFamily[]> };
  holder[COLLECTORS] ??= new Map();
  return holder[COLLECTORS];
}

/**
 * @internal Adds Prometheus families that every instance exports beside its modules': figures of
 * the process rather than of an instance (the circuit breakers of the process registry). Registered
 * by the entries that include them (`src/compose/*.ts`); the first registration of a name stays.
 */
export function registerProcessCollector(
  name: string,
  collector: (prefix: string) => MetricFamily[],
): void {
  if (!collectors().has(name)) collectors().set(name, collector);
}

/** @internal Whether the entries loaded so far include the module `name`. */
export function isModuleLoaded(name: keyof BuiltOnUse): boolean {
  return builders()[name] !== undefined;
}

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
  readonly #options: EnterpriseOptions;
  readonly #built: { [Name in keyof BuiltOnUse]?: BuiltOnUse[Name] } = {};
  readonly #waits: (() => void)[] = [];
  readonly #graceful: GracefulShutdown;
  #startOptions: StartOptions = {};

  constructor(options: EnterpriseOptions = {}) {
    this.config = resolveConfig(options);
    const root =
      options.logger === undefined
        ? createDefaultLogger(this.config.logLevel)
        : wrapLogger(options.logger);
    this.logger = root.child({ module: 'enterprise' });
    this.#lifecycle = new Lifecycle(root.child({ module: 'lifecycle' }));
    this.#options = options;
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
    for (const name of MODULES) this.#compose(name);
    const prefix = this.config.performance.prometheusPrefix;
    this.performance.addCollector(() =>
      [...collectors().values()].flatMap((collector) => collector(prefix)),
    );
  }

  #compose<Name extends keyof BuiltOnUse>(name: Name): void {
    const builder = builders()[name] as ModuleBuilder<BuiltOnUse[Name]> | undefined;
    builder?.validate?.(this, this.#options);
    const prefix = this.config.performance.prometheusPrefix;
    // Looked up when called: a module whose entry is imported after this instance was created
    // still gets its families and its lifecycle.
    this.performance.addCollector(() => {
      const current = builders()[name] as ModuleBuilder<BuiltOnUse[Name]> | undefined;
      return current?.metrics?.(prefix, this.#built[name]) ?? [];
    });
    this.#lifecycle.add({
      name,
      start: () => {
        const current = builders()[name] as ModuleBuilder<BuiltOnUse[Name]> | undefined;
        if (current === undefined) return undefined;
        let module = this.#built[name];
        if (module === undefined && current.buildAtStart?.(this.#options) === true)
          module = this.#build(name);
        if (module !== undefined) return current.start(module, this, this.#startOptions);
        const undo = current.waitForUse?.(this);
        if (undo !== undefined) this.#waits.push(undo);
        return undefined;
      },
      stop: (deadline) => {
        for (const undo of this.#waits.splice(0)) undo();
        const module = this.#built[name];
        const current = builders()[name] as ModuleBuilder<BuiltOnUse[Name]> | undefined;
        return module === undefined ? undefined : current?.stop(module, deadline);
      },
    });
  }

  #module<Name extends keyof BuiltOnUse>(name: Name): BuiltOnUse[Name] {
    const existing = this.#built[name];
    if (existing !== undefined) return existing;
    const module = this.#build(name);
    // A module first used after start() still gets started (subscriptions, workers, scheduler).
    if (this.state === 'started' || this.state === 'starting') {
      const builder = builders()[name] as ModuleBuilder<BuiltOnUse[Name]>;
      void builder.start(module, this, this.#startOptions)?.catch((error) => {
        this.logger.error({ err: error }, `${name} failed to start`);
      });
    }
    return module;
  }

  #build<Name extends keyof BuiltOnUse>(name: Name): BuiltOnUse[Name] {
    const builder = builders()[name] as ModuleBuilder<BuiltOnUse[Name]> | undefined;
    if (builder === undefined) {
      throw new LifecycleError(
        `the ${name} module is not loaded: import it from "@revcopy/enterprise/${name}" (or "@revcopy/enterprise")`,
        { module: name },
      );
    }
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new LifecycleError(
        `the ${name} of an instance that has been shut down cannot be built; use the current instance (getEnterprise())`,
        { state: this.state },
      );
    }
    const module = builder.build(this, this.#options);
    this.#built[name] = module;
    for (const other of MODULES)
      if (other !== name) builders()[other]?.sibling?.(this, name, this.#options);
    return module;
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
    return this.#module('tasks');
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
    return this.#module('cache');
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
    return this.#module('alerts');
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
    return this.#module('security');
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
    return this.#module('analytics');
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
    return this.#module('history');
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
    return this.#module('cluster');
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
    return this.#module('maintenance');
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
    return this.#module('capacity');
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
    return this.#module('reports');
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
    return this.#built[name];
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
      this.#startOptions = { ...options };
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

/**
 * Sets the process default instance, which the exported decorators, `cache`, `submitTask`,
 * `performanceMonitor` and `performanceContext` use. They look it up at call time, so classes may
 * be declared before `configure()` runs. A previous default is shut down; listeners added through
 * `performanceMonitor.on()` move to the new instance.
 *
 * @example
 * ```ts
 * configure({ performance: { alertThresholdMs: 300 } });
 * await getEnterprise().start();
 * ```
 */
export function configure(options: EnterpriseOptions = {}): Enterprise {
  const next = new Enterprise(options);
  const previous = replaceDefaultInstance(next);
  previous?.shutdown().catch((error) => {
    next.logger.error({ err: error }, 'the previous default instance failed to shut down');
  });
  return next;
}

/**
 * The process default instance, created from the environment on first use if {@link configure}
 * was not called. Throws `ConfigError` when the environment holds an invalid value.
 *
 * @example
 * ```ts
 * getEnterprise().performance.summary();
 * ```
 */
export function getEnterprise(): Enterprise {
  return defaultInstance() as Enterprise;
}
