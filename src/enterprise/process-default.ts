// The process default instance: what the exported decorators, `cache` and `submitTask` use. The
// `Enterprise` class gives `core/default-instance.ts` its factory when it loads.
import { defaultInstance, replaceDefaultInstance } from '../core/default-instance.js';
import { Enterprise } from '../enterprise.js';
import type { EnterpriseOptions } from '../enterprise-options.js';

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
