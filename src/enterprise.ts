import { type EnterpriseOptions, type ResolvedConfig, resolveConfig } from './core/config.js';
import { Lifecycle, type LifecycleState } from './core/lifecycle.js';
import { createDefaultLogger, type Logger, wrapLogger } from './core/logger.js';
import { PerformanceMonitor } from './performance/monitor.js';

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
  }

  /** `created`, `starting`, `started`, `stopping` or `stopped`. */
  get state(): LifecycleState {
    return this.#lifecycle.state;
  }

  /**
   * Starts background work: the system metrics sampler now; workers, schedulers and cache warmers as
   * those modules arrive. Idempotent. Monitoring itself works without it.
   */
  start(): Promise<void> {
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

let defaultInstance: Enterprise | undefined;

/**
 * Sets the process default instance, which the exported decorators, `performanceMonitor` and
 * `performanceContext` use. They look it up at call time, so classes may be declared before
 * `configure()` runs. A previous default is shut down.
 *
 * @example
 * ```ts
 * configure({ performance: { alertThresholdMs: 300 } });
 * await getEnterprise().start();
 * ```
 */
export function configure(options: EnterpriseOptions = {}): Enterprise {
  const next = new Enterprise(options);
  const previous = defaultInstance;
  defaultInstance = next;
  previous?.shutdown().catch((error) => {
    next.logger.error({ err: error }, 'the previous default instance failed to shut down');
  });
  return next;
}

/**
 * The process default instance, created from the environment on first use if {@link configure}
 * was not called.
 *
 * @example
 * ```ts
 * getEnterprise().performance.summary();
 * ```
 */
export function getEnterprise(): Enterprise {
  if (defaultInstance === undefined) defaultInstance = new Enterprise();
  return defaultInstance;
}
