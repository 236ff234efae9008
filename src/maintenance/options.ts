import { describeValue } from '../core/errors.js';
import { checkTimezone } from '../tasks/schedule-slots.js';
import { MaintenanceConfigError } from './errors.js';
import { checkCron, durationOption, invalid, numberOption } from './option-checks.js';
import type { PgPoolLike, SqliteDatabaseLike } from './sql.js';
import type { CacheWarmingOptions } from './tasks/cache-warming.js';
import type { CleanupCompletedTasksOptions } from './tasks/cleanup-completed-tasks.js';
import type { CleanupOldContentOptions } from './tasks/cleanup-old-content.js';
import type { OptimizeDatabaseOptions } from './tasks/optimize-database.js';
import type { AnalyticsReportOptions } from './tasks/small-tasks.js';
import {
  MAINTENANCE_TASKS,
  type MaintenanceTaskName,
  type MaintenanceTaskOptions,
} from './types.js';

/**
 * Options of `maintenance.enable()` (and of `createEnterprise({ maintenance })`): settings shared
 * by every task, then each task's own options by its name, or `false` to leave it out.
 *
 * @example
 * ```ts
 * enterprise.maintenance.enable({
 *   database: { postgres: pool },
 *   optimize_database: { schedule: '0 3 * * *', deadTupleRatio: 0.1 },
 *   cleanup_old_content: { rules: [{ table: 'sessions', timestampColumn: 'created_at', olderThan: '90d' }] },
 *   generate_analytics_report: false,
 * });
 * ```
 */
export interface MaintenanceOptions {
  /** Time zone the cron expressions are read in. @defaultValue 'UTC' */
  timezone?: string;
  /** The task queue the runs go through. @defaultValue the default queue */
  queue?: string;
  /** Runs kept per task (the oldest go first). @defaultValue 20 */
  keepResults?: number;
  /** The databases `optimize_database` and `cleanup_old_content` work on, unless they name their own. */
  database?: { postgres?: PgPoolLike; sqlite?: SqliteDatabaseLike };
  cleanup_completed_tasks?: CleanupCompletedTasksOptions | false;
  cleanup_performance_metrics?: MaintenanceTaskOptions | false;
  optimize_database?: OptimizeDatabaseOptions | false;
  cache_warming?: CacheWarmingOptions | false;
  cleanup_old_content?: CleanupOldContentOptions | false;
  system_health_check?: MaintenanceTaskOptions | false;
  generate_analytics_report?: AnalyticsReportOptions | false;
}

/** The default cron of each task (UTC unless `timezone` says otherwise). */
export const DEFAULT_SCHEDULES: Readonly<Record<MaintenanceTaskName, string>> = {
  cleanup_completed_tasks: '30 3 * * *',
  cleanup_performance_metrics: '15 * * * *',
  optimize_database: '0 2 * * *',
  cache_warming: '*/10 * * * *',
  cleanup_old_content: '0 4 * * *',
  system_health_check: '* * * * *',
  generate_analytics_report: '0 6 * * *',
};

/** @internal One task's settings once checked. */
export interface ResolvedTask {
  name: MaintenanceTaskName;
  cron: string | false;
  timeoutMs: number;
  dryRun: boolean;
  /** The task's own options as given (each task checks its own in `check`). */
  options: Record<string, unknown>;
}

/** @internal The options once checked. */
export interface ResolvedMaintenance {
  timezone: string | undefined;
  queue: string | undefined;
  keepResults: number;
  database: { postgres?: PgPoolLike; sqlite?: SqliteDatabaseLike };
  tasks: Map<MaintenanceTaskName, ResolvedTask>;
}

/**
 * @internal Checks every option (the tasks' own through `checkTask`), so that a bad cron, rule or
 * table name fails when given, not at 2 a.m.
 */
export function resolveMaintenanceOptions(
  options: MaintenanceOptions = {},
  checkTask: (task: ResolvedTask, database: ResolvedMaintenance['database']) => void = () => {},
): ResolvedMaintenance {
  if (options === null || typeof options !== 'object') {
    throw invalid('maintenance', options, 'maintenance options');
  }
  let timezone: string | undefined;
  try {
    timezone = checkTimezone(options.timezone);
  } catch (error) {
    throw new MaintenanceConfigError(
      `maintenance option timezone=${describeValue(options.timezone)} is invalid: expected an IANA time zone such as 'Europe/Paris'`,
      { field: 'timezone', value: options.timezone, expected: 'an IANA time zone' },
      error,
    );
  }
  if (options.queue !== undefined && (typeof options.queue !== 'string' || options.queue === '')) {
    throw invalid('queue', options.queue, 'a queue name');
  }
  const keepResults = numberOption(
    options.keepResults,
    20,
    'keepResults',
    (n) => Number.isInteger(n) && n >= 1 && n <= 1_000,
    'an integer from 1 to 1000',
  );
  const database = options.database ?? {};
  if (typeof database !== 'object' || database === null) {
    throw invalid('database', database, '{ postgres?: pg.Pool, sqlite?: Database }');
  }
  if (database.postgres !== undefined && typeof database.postgres.connect !== 'function') {
    throw invalid('database.postgres', database.postgres, 'a pg Pool');
  }
  if (database.sqlite !== undefined && typeof database.sqlite.pragma !== 'function') {
    throw invalid('database.sqlite', database.sqlite, 'a better-sqlite3 Database');
  }
  const known = new Set<string>(MAINTENANCE_TASKS);
  for (const key of Object.keys(options)) {
    if (!known.has(key) && !['timezone', 'queue', 'keepResults', 'database'].includes(key)) {
      throw invalid(
        key,
        (options as Record<string, unknown>)[key],
        `one of ${MAINTENANCE_TASKS.join(', ')} or a shared option`,
      );
    }
  }
  const resolved: ResolvedMaintenance = {
    timezone,
    queue: options.queue,
    keepResults,
    database,
    tasks: new Map(),
  };
  for (const name of MAINTENANCE_TASKS) {
    const given = options[name];
    if (given === false) continue;
    if (given !== undefined && (given === null || typeof given !== 'object')) {
      throw invalid(name, given, 'task options or false');
    }
    const own = (given ?? {}) as MaintenanceTaskOptions & Record<string, unknown>;
    const cron =
      own.schedule === false
        ? false
        : checkCron(own.schedule ?? DEFAULT_SCHEDULES[name], timezone, `${name}.schedule`);
    if (own.dryRun !== undefined && typeof own.dryRun !== 'boolean') {
      throw invalid(`${name}.dryRun`, own.dryRun, 'a boolean');
    }
    const task: ResolvedTask = {
      name,
      cron,
      timeoutMs: durationOption(own.timeout, '10m', `${name}.timeout`),
      dryRun: own.dryRun ?? false,
      options: own,
    };
    checkTask(task, database);
    resolved.tasks.set(name, task);
  }
  return resolved;
}
