// What `createEnterprise()` and `configure()` accept, and the modules an instance builds on use.
import type { Alerts } from './alerts/alerts.js';
import type { BuiltinRulesOptions } from './alerts/builtin-rules.js';
import type { AlertsOptions } from './alerts/options.js';
import type { CapacityPlanner } from './analytics/capacity/planner.js';
import type { ClusterView } from './analytics/cluster/cluster-view.js';
import type { Analytics } from './analytics/events/analytics.js';
import type { MetricsHistory } from './analytics/history/metrics-history.js';
import type {
  EnterpriseAnalyticsOptions,
  ReportsModuleOptions,
} from './analytics/module-options.js';
import type { Reports } from './analytics/reports/reports.js';
import type { Cache } from './cache/cache.js';
import type { CacheOptions } from './cache/options.js';
import type { ConfigOptions } from './core/config.js';
import type { ShutdownOptions } from './core/graceful-shutdown.js';
import type { Maintenance } from './maintenance/maintenance.js';
import type { MaintenanceOptions } from './maintenance/options.js';
import type { SecurityOptions } from './security/options.js';
import type { Security } from './security/security.js';
import type { TaskDefinitionOptions } from './tasks/api-types.js';
import type { TaskManager, TaskStartOptions } from './tasks/manager.js';
import type { TaskOptions } from './tasks/options.js';

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
  /**
   * The alerts module, evaluated once the instance is started; `false` turns it off. `builtin`
   * tunes or switches off the built-in rules (`builtin: false` for none).
   */
  alerts?:
    | (AlertsOptions & {
        builtin?: BuiltinRulesOptions | false;
        /** How notifications are delivered as tasks: retries, backoff, queue. @defaultValue 5 retries, exponential backoff */
        delivery?: Pick<TaskDefinitionOptions, 'maxRetries' | 'backoff' | 'timeout' | 'queue'>;
      })
    | false;
  /**
   * The security module: built and started by `start()` when given, or on first use (the
   * middleware's `security: true`). Uses the instance's Redis when `REDIS_URL` is set.
   */
  security?: SecurityOptions | false;
  /**
   * Product analytics (`enterprise.analytics`) and the metrics history (`enterprise.history`):
   * both built and started by `start()` when given (`history: false` leaves the history out), or
   * on first use. Memory stores unless `store` (and `history.store`) say otherwise.
   */
  analytics?: EnterpriseAnalyticsOptions | false;
  /**
   * The maintenance tasks: given, `start()` enables them with these options (registered as
   * background tasks and scheduled); `enterprise.maintenance.enable()` does the same at any time.
   */
  maintenance?: MaintenanceOptions | false;
  /**
   * The graceful shutdown: the signals it follows once started, the readiness delay, the
   * deadline. See {@link Enterprise.drain}.
   */
  shutdown?: ShutdownOptions;
  /**
   * Reports (`enterprise.reports`): built by `start()` when given, or on first use. Definitions
   * with a `schedule` run as tasks; channel targets go through the alerts module's channels.
   */
  reports?: ReportsModuleOptions | false;
}

/** Options of {@link Enterprise.start}. */
export interface StartOptions extends TaskStartOptions {}

/** The modules an instance builds on first use, by the name {@link Enterprise.peek} takes. */
export interface BuiltOnUse {
  cache: Cache;
  tasks: TaskManager;
  alerts: Alerts;
  security: Security;
  analytics: Analytics;
  cluster: ClusterView;
  history: MetricsHistory;
  maintenance: Maintenance;
  capacity: CapacityPlanner;
  reports: Reports;
}
