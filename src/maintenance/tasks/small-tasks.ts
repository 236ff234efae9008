import type { HealthReport, HealthStatus } from '../../resilience/health-types.js';
import { invalid } from '../option-checks.js';
import type {
  MaintenanceHistory,
  MaintenanceOutcome,
  MaintenanceReportRunner,
  MaintenanceRunContext,
  MaintenanceTaskOptions,
} from '../types.js';

/**
 * Options of `generate_analytics_report`.
 *
 * @example
 * ```ts
 * enterprise.maintenance.enable({ generate_analytics_report: { report: 'weekly', schedule: '0 7 * * 1' } });
 * ```
 */
export interface AnalyticsReportOptions extends MaintenanceTaskOptions {
  /** The report to generate and distribute. @defaultValue 'daily' */
  report?: string;
  /** Runs the report; by default the reports module's, when an entry includes it. */
  runner?: MaintenanceReportRunner;
}

/** @internal Checks the options when given. */
export function checkReportOptions(options: AnalyticsReportOptions): void {
  if (
    options.report !== undefined &&
    (typeof options.report !== 'string' || options.report === '')
  ) {
    throw invalid('generate_analytics_report.report', options.report, 'a report name');
  }
  if (options.runner !== undefined && typeof options.runner?.run !== 'function') {
    throw invalid('generate_analytics_report.runner', options.runner, '{ run(name) }');
  }
}

/** @internal `cleanup_performance_metrics`: the history store's retention applied now. */
export async function cleanupPerformanceMetrics(
  history: MaintenanceHistory | undefined,
  context: MaintenanceRunContext,
): Promise<MaintenanceOutcome> {
  if (history === undefined) {
    return { examined: {}, done: {}, notes: ['the metrics history is not in use in this process'] };
  }
  const { store } = history;
  const before = (await store.series()).length;
  if (!context.dryRun) await store.prune();
  const after = context.dryRun ? before : (await store.series()).length;
  return {
    examined: { series: before },
    done: { seriesRemoved: Math.max(0, before - after) },
    details: {
      store: store.name,
      retention: { minutesMs: store.retention.minutesMs, hoursMs: store.retention.hoursMs },
    },
  };
}

/**
 * @internal `system_health_check`: runs every health check and reports the components whose
 * status changed since the previous run (the alerts watch the recorded statuses).
 */
export async function systemHealthCheck(
  health: (() => Promise<HealthReport>) | undefined,
  previous: Map<string, HealthStatus>,
): Promise<MaintenanceOutcome & { statuses: Map<string, HealthStatus> }> {
  if (health === undefined) {
    return {
      examined: {},
      done: {},
      notes: ['no health checks are available'],
      statuses: previous,
    };
  }
  const report = await health();
  const statuses = new Map<string, HealthStatus>();
  const transitions: { component: string; from: HealthStatus | null; to: HealthStatus }[] = [];
  for (const component of report.components) {
    statuses.set(component.name, component.status);
    const before = previous.get(component.name);
    if (before !== component.status && !(before === undefined && component.status === 'ok')) {
      transitions.push({ component: component.name, from: before ?? null, to: component.status });
    }
  }
  const count = (status: HealthStatus) =>
    report.components.filter((c) => c.status === status).length;
  return {
    examined: { components: report.components.length },
    done: { transitions: transitions.length },
    details: {
      status: report.status,
      down: count('down'),
      degraded: count('degraded'),
      components: report.components.map((c) => ({ name: c.name, status: c.status })),
      transitions,
    },
    statuses,
  };
}

/** @internal `generate_analytics_report`: the configured report, through the reports module. */
export async function generateAnalyticsReport(
  options: AnalyticsReportOptions,
  reports: MaintenanceReportRunner | undefined,
  context: MaintenanceRunContext,
): Promise<MaintenanceOutcome> {
  const name = options.report ?? 'daily';
  reports = options.runner ?? reports;
  if (reports === undefined) {
    return {
      examined: {},
      done: {},
      notes: ['no report configured: the reports module is not enabled'],
    };
  }
  const defined = reports.list?.();
  if (defined !== undefined && !defined.some((report) => report.name === name)) {
    return {
      examined: { reports: defined.length },
      done: {},
      notes: [
        `no report configured: no report is named "${name}" (define it, or set generate_analytics_report.report)`,
      ],
    };
  }
  if (context.dryRun) return { examined: { reports: 1 }, done: {}, details: { report: name } };
  const result = await reports.run(name);
  return { examined: { reports: 1 }, done: { generated: 1 }, details: { report: name, result } };
}
