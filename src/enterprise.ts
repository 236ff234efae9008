import { Cache } from './cache/cache.js';
import { cacheMetricFamilies } from './cache/metrics.js';
import type { CacheOptions } from './cache/options.js';
import { type ConfigOptions, type ResolvedConfig, resolveConfig } from './core/config.js';
import { LifecycleError } from './core/errors.js';
import { Lifecycle, type LifecycleState } from './core/lifecycle.js';
import { createDefaultLogger, type Logger, type LoggerLike, wrapLogger } from './core/logger.js';
import { PerformanceMonitor } from './performance/performance-monitor.js';
import { TaskManager, type TaskStartOptions } from './tasks/manager.js';
import type { TaskOptions } from './tasks/options.js';
import { handlerRegistry } from './tasks/registry.js';
import { resolveTaskSettings, type TaskSettings } from './tasks/settings.js';

/**
 * Everything `createEnterprise()` and `configure()` accept: the common options and each module's
 * own. Options given here win over environment variables, which win over the defaults.
 *
 * @example
 * ```ts
 * const enterprise = createEnterprise({
 *   performance: { alertThresholdMs: 250 },
 *   logger: pino({ level: 'debug' }),
 * });
 * ```
 */
export interface EnterpriseOptions extends ConfigOptions {
  cache?: CacheOptions;
  tasks?: TaskOptions;
}

/** Options of {@link Enterprise.start}. */
export interface StartOptions extends TaskStartOptions {}

/** The modules an instance builds on first use, by the name {@link Enterprise.peek} takes. */
export interface BuiltOnUse {
  cache: Cache;
  tasks: TaskManager;
}

/**
 * One isolated set of enterprise services: its own configuration, logger and performance monitor
 * (and, in later releases, cache and task runner). Build one with {@link createEnterprise}; the
 * process default is managed by {@link configure} and {@link getEnterprise}.
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
  #cache: Cache | undefined;
  readonly #taskSettings: TaskSettings;
  #tasks: TaskManager | undefined;
  #startOptions: StartOptions = {};
  #stopListening: (() => void) | undefined;

  constructor(options: EnterpriseOptions = {}) {
    this.config = resolveConfig(options);
    const root =
      options.logger === undefined
        ? createDefaultLogger(this.config.logLevel)
        : wrapLogger(options.logger);
    this.logger = root.child({ module: 'enterprise' });
    this.#lifecycle = new Lifecycle(root.child({ module: 'lifecycle' }));
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
    this.#options = options;
    const prefix = this.config.performance.prometheusPrefix;
    performance.addCollector(() => cacheMetricFamilies(prefix, this.#cache?.analytics()));
    this.#lifecycle.add({
      name: 'cache',
      // Started only when used: an instance that never touches its cache opens no connection.
      start: () => this.#cache?.start(),
      stop: () => this.#cache?.close(),
    });
    // Validated now, so a bad task option fails at creation like every other option.
    this.#taskSettings = resolveTaskSettings(options.tasks, this.config);
    // Declared once the task module is in use, so an instance without tasks exposes none of them.
    performance.addCollector(() => this.#tasks?.metricFamilies() ?? []);
    this.#lifecycle.add({
      name: 'tasks',
      // Started when used or when handlers are registered: otherwise no backend is opened. A
      // handler registered after start() (a module imported later) builds and starts it then.
      start: () => {
        if (this.#tasks !== undefined || handlerRegistry().definitions.size > 0) {
          return this.tasks.start(this.#startOptions);
        }
        const listeners = handlerRegistry().listeners;
        const onFirstHandler = () => {
          listeners.delete(onFirstHandler);
          this.#stopListening = undefined;
          if (this.state === 'started' || this.state === 'starting') this.tasks;
        };
        listeners.add(onFirstHandler);
        this.#stopListening = () => listeners.delete(onFirstHandler);
        return undefined;
      },
      stop: () => {
        this.#stopListening?.();
        return this.#tasks?.stop();
      },
    });
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
    if (this.#tasks === undefined) {
      if (this.state === 'stopping' || this.state === 'stopped') {
        throw new LifecycleError(
          'the tasks of an instance that has been shut down cannot be built; use the current instance (getEnterprise())',
          { state: this.state },
        );
      }
      this.#tasks = new TaskManager({
        settings: this.#taskSettings,
        logger: this.logger.child({ module: 'tasks' }),
        performance: this.performance,
        clock: this.config.clock,
        prefix: this.config.performance.prometheusPrefix,
      });
      // Tasks first used after start() still get their workers and scheduler.
      if (this.state === 'started' || this.state === 'starting') {
        void this.#tasks.start(this.#startOptions).catch((error) => {
          this.logger.error({ err: error }, 'tasks failed to start');
        });
      }
    }
    return this.#tasks;
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
    if (this.#cache === undefined) {
      if (this.state === 'stopping' || this.state === 'stopped') {
        throw new LifecycleError(
          'the cache of an instance that has been shut down cannot be built; use the current instance (getEnterprise())',
          { state: this.state },
        );
      }
      const options = this.#options.cache ?? {};
      this.#cache = new Cache({
        ...options,
        defaultTtl: this.config.cache.defaultTtlMs / 1000,
        maxSize: this.config.cache.maxSize,
        redisUrl:
          options.redisUrl ?? (options.redis === undefined ? this.config.redisUrl : undefined),
        logger: this.logger as unknown as LoggerLike,
        clock: this.config.clock,
      });
      // A cache first used after start() still needs its bus subscription and warmers.
      if (this.state === 'started' || this.state === 'starting') void this.#cache.start();
    }
    return this.#cache;
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
    const modules: { [K in keyof BuiltOnUse]: BuiltOnUse[K] | undefined } = {
      cache: this.#cache,
      tasks: this.#tasks,
    };
    return modules[name];
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
    if (this.state === 'created') this.#startOptions = { ...options };
    return this.#lifecycle.start();
  }

  /**
   * Stops every timer, drains in-flight work and closes the connections this instance opened (never
   * the ones it was given). Idempotent; the instance cannot be started again afterwards.
   */
  shutdown(): Promise<void> {
    return this.#lifecycle.shutdown();
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

/**
 * The process default lives on `globalThis`, so the ESM and the CommonJS builds of this package,
 * when both are loaded in one process (an ESM app with a CommonJS dependency), share one default
 * instance instead of each recording into its own.
 */
interface DefaultSlot {
  instance: Enterprise | undefined;
  /** Why the default could not be built from the environment, until `configure()` is called. */
  failure: unknown;
  warned: boolean;
  /** Notified when `configure()` replaces the default. */
  readonly listeners: Set<(next: Enterprise, previous: Enterprise | undefined) => void>;
}

const SLOT = Symbol.for('@revcopy/enterprise/default-instance');

function slot(): DefaultSlot {
  const holder = globalThis as { [SLOT]?: DefaultSlot };
  holder[SLOT] ??= { instance: undefined, failure: undefined, warned: false, listeners: new Set() };
  return holder[SLOT];
}

/**
 * Sets the process default instance, which the exported decorators, `performanceMonitor` and
 * `performanceContext` use. They look it up at call time, so classes may be declared before
 * `configure()` runs. A previous default is shut down; listeners added through
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
  const state = slot();
  const previous = state.instance;
  state.instance = next;
  state.failure = undefined;
  state.warned = false;
  for (const listener of state.listeners) listener(next, previous);
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
  const state = slot();
  if (state.instance === undefined) state.instance = new Enterprise();
  return state.instance;
}

/**
 * @internal The default instance for a monitored call, or `undefined` when it cannot be built
 * from the environment. A typo in one variable must not make every decorated business method
 * throw: the call then runs unmonitored, and a process warning says why, once, until
 * `configure()` is called.
 */
export function defaultForCall(): Enterprise | undefined {
  const state = slot();
  if (state.instance !== undefined) return state.instance;
  if (state.failure !== undefined) return undefined;
  try {
    state.instance = new Enterprise();
    return state.instance;
  } catch (error) {
    state.failure = error;
    if (!state.warned) {
      state.warned = true;
      process.emitWarning(
        `the default instance could not be created, so monitored calls run unmonitored until configure() is called: ${(error as Error)?.message ?? String(error)}`,
        { type: 'EnterpriseWarning', code: (error as { code?: string })?.code },
      );
    }
    return undefined;
  }
}

/** @internal Subscribes to replacements of the default instance; returns the unsubscribe function. */
export function onDefaultChange(
  listener: (next: Enterprise, previous: Enterprise | undefined) => void,
): () => void {
  const { listeners } = slot();
  listeners.add(listener);
  return () => listeners.delete(listener);
}
