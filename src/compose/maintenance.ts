// How an instance builds its maintenance tasks: the task engine they are registered and scheduled
// on, the task backend's repair, the metrics history, the health checks, the cache, and the
// reports runner when an entry provides one; and, with the alerts module, the alerts that a failed
// run and a component found down raise.
import type { Alerts } from '../alerts/alerts.js';
import type { AlertRuleDefinition, SeriesValue } from '../alerts/types.js';
import { providedService } from '../core/module-services.js';
import { type Enterprise, type EnterpriseOptions, registerModule } from '../enterprise.js';
import type { BackupAlerts } from '../maintenance/backup-types.js';
import { Maintenance } from '../maintenance/maintenance.js';
import { type MaintenanceOptions, resolveMaintenanceOptions } from '../maintenance/options.js';
import { checkTaskOptions } from '../maintenance/task-runners.js';
import type {
  MaintenanceReportRunner,
  MaintenanceRunResult,
  MaintenanceTaskStore,
} from '../maintenance/types.js';
import { HealthChecker } from '../monitoring/health.js';
import { TasksSource } from '../monitoring/tasks-source.js';
import { statusRank } from '../resilience/health-registry.js';

/**
 * The service an entry that includes a reports module provides, so that
 * `generate_analytics_report` runs its reports: `(enterprise) => runner | undefined`.
 */
export const MAINTENANCE_REPORTS_SERVICE = 'maintenance.reports';

/** The rules the maintenance module adds to the alerts. */
export const MAINTENANCE_FAILED_RULE = 'MaintenanceTaskFailed';
export const MAINTENANCE_HEALTH_RULE = 'MaintenanceHealthCheckDown';

const given = (options: EnterpriseOptions) =>
  options.maintenance === undefined || options.maintenance === false
    ? undefined
    : options.maintenance;

// The options `start()` enables a module with.
const pending = new WeakMap<Maintenance, MaintenanceOptions>();

// Alerts engines already watching a maintenance module, so that the wiring happens once.
const watched = new WeakMap<Alerts, Maintenance>();

/** The value sources and rules of a maintenance module, on an alerts engine. */
function watch(alerts: Alerts, maintenance: Maintenance): void {
  if (watched.has(alerts)) return;
  watched.set(alerts, maintenance);
  alerts.source({
    name: 'maintenance.failed',
    description: 'Whether the last run of each maintenance task failed: 1 failed, 0 succeeded',
    read: () =>
      maintenance
        .list()
        .flatMap((task): SeriesValue[] =>
          task.lastResult === null
            ? []
            : [{ labels: { task: task.name }, value: task.lastResult.ok ? 0 : 1 }],
        ),
  });
  alerts.source({
    name: 'maintenance.health',
    description:
      'Status of each component at the last system_health_check run: 0 ok, 1 degraded, 2 down',
    read: () => {
      const last = maintenance.results('system_health_check').find((r) => r.ok);
      const components = (last?.details?.components ?? []) as { name: string; status: 'ok' }[];
      return components.map((c) => ({
        labels: { component: c.name },
        value: statusRank(c.status),
      }));
    },
  });
  // Evaluated every second (an in-memory read), so that a failure is an alert at once.
  alerts.rule({
    name: MAINTENANCE_FAILED_RULE,
    watch: 'maintenance.failed',
    condition: { above: 0.5 },
    interval: '1s',
    noData: 'ok',
    severity: 'warning',
    summary: 'Maintenance task {{labels.task}} failed',
  });
  alerts.rule({
    name: MAINTENANCE_HEALTH_RULE,
    watch: 'maintenance.health',
    condition: { above: 1.5 },
    interval: '1s',
    noData: 'ok',
    severity: 'critical',
    summary: 'system_health_check found {{labels.component}} down',
  });
}

/** The alerts engine as a backup sees it. */
function backupAlerts(alerts: Alerts): BackupAlerts {
  return {
    rules: () =>
      alerts.rules().map((r) => ({
        name: r.name,
        definition: r.definition as unknown as Readonly<Record<string, unknown>>,
      })),
    addRule: (rule) => {
      alerts.rule(rule as unknown as AlertRuleDefinition);
    },
    silences: () => alerts.silences(),
    addSilence: (silence) => alerts.silence({ ...silence, matchers: [...silence.matchers] }),
  };
}

function build(enterprise: Enterprise, options: EnterpriseOptions): Maintenance {
  const health = new HealthChecker(enterprise, new TasksSource(enterprise));
  const reports = () =>
    providedService<(enterprise: Enterprise) => MaintenanceReportRunner | undefined>(
      MAINTENANCE_REPORTS_SERVICE,
    )?.(enterprise);
  const maintenance: Maintenance = new Maintenance({
    logger: enterprise.logger.child({ module: 'maintenance' }),
    tasks: () => enterprise.tasks,
    taskStore: async () => {
      const tasks = enterprise.peek('tasks');
      return tasks === undefined ? undefined : ((await tasks.backend()) as MaintenanceTaskStore);
    },
    knownQueues: () => enterprise.peek('tasks')?.servedQueues() ?? [],
    history: () => enterprise.peek('history'),
    // Always a fresh round of checks: the run is the record.
    health: () => health.check(0),
    cache: () => enterprise.peek('cache'),
    reports,
    backup: {
      // Built if need be: an instance that has not used its tasks yet still exports its store.
      taskStore: () => enterprise.tasks.backend(),
      alerts: () => {
        const alerts = enterprise.peek('alerts');
        return alerts === undefined ? undefined : backupAlerts(alerts);
      },
    },
    onResult: (result: MaintenanceRunResult) => {
      const alerts = enterprise.peek('alerts');
      if (alerts === undefined) return;
      if (!result.ok || result.task === 'system_health_check') void alerts.evaluate();
    },
  });
  const alerts = enterprise.peek('alerts');
  if (alerts !== undefined) watch(alerts, maintenance);
  const settings = given(options);
  if (settings !== undefined) pending.set(maintenance, settings);
  return maintenance;
}

registerModule('maintenance', {
  validate(_enterprise, options) {
    const settings = given(options);
    if (settings !== undefined) resolveMaintenanceOptions(settings, checkTaskOptions);
  },
  build,
  // Enabled at start() when options are given: registered with the task engine and scheduled.
  start(maintenance) {
    const settings = pending.get(maintenance);
    pending.delete(maintenance);
    if (settings !== undefined && !maintenance.enabled) maintenance.enable(settings);
    return undefined;
  },
  buildAtStart: (options) => given(options) !== undefined,
  stop: (maintenance) => maintenance.close(),
  sibling(enterprise, name) {
    const maintenance = enterprise.peek('maintenance');
    if (name === 'alerts' && maintenance !== undefined) watch(enterprise.alerts, maintenance);
  },
});
