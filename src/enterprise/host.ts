// What the module registry reads of an instance. The registry cannot import the `Enterprise`
// class (the class imports the registry, and type-only imports count as cycles), so it depends
// on this shape, which the class has.
import type { ResolvedConfig } from '../core/config.js';
import type { LifecycleState } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { PerformanceMonitor } from '../performance/performance-monitor.js';

/** @internal The members of an `Enterprise` instance that its module registry uses. */
export interface EnterpriseHost {
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  readonly performance: PerformanceMonitor;
  readonly state: LifecycleState;
}
