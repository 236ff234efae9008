// What monitoring needs of an instance, declared here so the monitoring module never imports the
// composition root: an `Enterprise` is one, and so is any object of the same shape.
import type { Alerts } from '../alerts/alerts.js';
import type { CapacityPlanner } from '../analytics/capacity/planner.js';
import type { ClusterView } from '../analytics/cluster/cluster-view.js';
import type { Analytics } from '../analytics/events/analytics.js';
import type { MetricsHistory } from '../analytics/history/metrics-history.js';
import type { Reports } from '../analytics/reports/reports.js';
import type { Cache } from '../cache/cache.js';
import type { ResolvedConfig } from '../core/config.js';
import { defaultInstance } from '../core/default-instance.js';
import type { DrainTarget } from '../core/graceful-shutdown.js';
import type { LifecycleState } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { Maintenance } from '../maintenance/maintenance.js';
import type { PerformanceMonitor } from '../performance/performance-monitor.js';
import type { Security } from '../security/security.js';
import type { TaskManager } from '../tasks/manager.js';

/** The modules an instance builds on first use, as `peek()` names them. */
export interface MonitoredModules {
  cache: Cache;
  tasks: TaskManager;
  alerts: Alerts;
  security: Security;
  analytics: Analytics;
  history: MetricsHistory;
  cluster: ClusterView;
  maintenance: Maintenance;
  capacity: CapacityPlanner;
  reports: Reports;
}

/**
 * The instance a monitoring router, an adapter or request instrumentation works with.
 * `createEnterprise()` returns one.
 *
 * @example
 * ```ts
 * const instance: MonitoredInstance = createEnterprise();
 * app.use('/monitoring', enterpriseRouter({ enterprise: instance }));
 * ```
 */
export interface MonitoredInstance {
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  readonly performance: PerformanceMonitor;
  readonly state: LifecycleState;
  /** Used only by explicit actions (invalidating a tag across the deployment); reads use `peek`. */
  readonly cache: Cache;
  /** Used by the middleware's `security` option (the user asked for it); reads use `peek`. */
  readonly security: Security;
  /** Used by the middleware's `analytics` option (the user asked for it); reads use `peek`. */
  readonly analytics: Analytics;
  /** The module if built, never building it: what monitoring observes. */
  peek<Name extends keyof MonitoredModules>(name: Name): MonitoredModules[Name] | undefined;
  start(): Promise<void>;
  shutdown(): Promise<void>;
  /** True during a graceful shutdown: `/health/ready` answers 503 from its start. */
  readonly draining?: boolean;
  /** Closes a host's server (or runs a hook) during a graceful shutdown. */
  onDrain?(target: DrainTarget): () => void;
}

/** @internal The process default instance, as monitoring sees it. */
export function defaultMonitoredInstance(): MonitoredInstance {
  return defaultInstance() as unknown as MonitoredInstance;
}
