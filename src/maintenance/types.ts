import type { Duration } from '../core/duration.js';
import type { Logger } from '../core/logger.js';
import type { HealthReport } from '../resilience/health-types.js';
import type { TaskDefinitionOptions, TaskHandler } from '../tasks/api-types.js';
import type { ScheduleInfo, ScheduleOptions } from '../tasks/scheduler.js';
import type { BackupServices } from './backup-types.js';

/** The seven maintenance tasks, under the names the task system and the router know them by. */
export const MAINTENANCE_TASKS = [
  'cleanup_completed_tasks',
  'cleanup_performance_metrics',
  'optimize_database',
  'cache_warming',
  'cleanup_old_content',
  'system_health_check',
  'generate_analytics_report',
] as const;

/** One of {@link MAINTENANCE_TASKS}. */
export type MaintenanceTaskName = (typeof MAINTENANCE_TASKS)[number];

/**
 * What one run of a task found and did: counts of what it looked at (`examined`) and of what it
 * changed (`done`, zero in a dry run), and a structured report of the rest.
 *
 * @example
 * ```ts
 * const outcome: MaintenanceOutcome = {
 *   examined: { tables: 12 },
 *   done: { vacuumed: 1, analyzed: 2 },
 *   details: { vacuumed: ['public.orders'] },
 * };
 * ```
 */
export interface MaintenanceOutcome {
  examined: Record<string, number>;
  done: Record<string, number>;
  /** What was found, per kind (tables, keys, indexes...); bounded by each task. */
  details?: Record<string, unknown>;
  /** Short sentences for an operator ("no database pool given: nothing to do"). */
  notes?: string[];
}

/** What a task's function receives. */
export interface MaintenanceRunContext {
  task: string;
  /** Aborted when the run's `timeout` passes (or the module closes): stop at the next batch. */
  signal: AbortSignal;
  /** Report what would be done, change nothing. */
  dryRun: boolean;
  /** Epoch milliseconds at which the run times out. */
  deadline: number;
  log: Logger;
}

/**
 * The record of one run, kept (bounded) per task and shown by `GET /maintenance`.
 *
 * @example
 * ```ts
 * const result = await enterprise.maintenance.run('cleanup_completed_tasks');
 * console.log(result.ok, result.durationMs, result.examined, result.done);
 * ```
 */
export interface MaintenanceRunResult extends MaintenanceOutcome {
  id: string;
  task: string;
  /** `schedule` (a task of the scheduler), `manual` (`run()`), `api` (the monitoring router). */
  trigger: 'schedule' | 'manual' | 'api';
  dryRun: boolean;
  /** ISO 8601. */
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  ok: boolean;
  error?: { name: string; code: string | undefined; message: string };
}

/** Options every task takes. */
export interface MaintenanceTaskOptions {
  /**
   * A cron expression (5 fields, or 6 with seconds) read in `timezone`, or `false` to leave the
   * task unscheduled (it can still be run with `run()`). @defaultValue see docs/maintenance.md
   */
  schedule?: string | false;
  /** A run is stopped and recorded as failed after this long. @defaultValue '10m' */
  timeout?: Duration;
  /** Report what would be done and change nothing. @defaultValue false */
  dryRun?: boolean;
}

/**
 * The task engine maintenance registers its tasks with and schedules them on: an instance's
 * `enterprise.tasks` is one.
 */
export interface MaintenanceTaskHost {
  register(name: string, handler: TaskHandler, options?: TaskDefinitionOptions): void;
  readonly scheduler: {
    schedulePeriodic(
      cron: string,
      scheduleName: string,
      taskName: string,
      payload?: unknown,
      options?: ScheduleOptions,
    ): ScheduleInfo;
    unschedule(scheduleName: string): boolean;
    list(): ScheduleInfo[];
  };
}

/**
 * What `generate_analytics_report` calls: the reports module's runner, wired by the composition
 * when that module is present.
 *
 * @example
 * ```ts
 * const reports: MaintenanceReportRunner = { run: async (name) => ({ name, delivered: ['email'] }) };
 * ```
 */
export interface MaintenanceReportRunner {
  run(name: string): Promise<unknown>;
  /** The reports defined, when the runner can tell: a report not defined is a note, not a failure. */
  list?(): readonly { name: string }[];
}

/** What `cache_warming` uses of the cache. */
export interface MaintenanceCache {
  warmers(): string[];
  warm(name?: string): Promise<{ name: string; ok: boolean; durationMs: number }[]>;
  refreshHotKeys(options: {
    withinMs: number;
    maxKeys: number;
    budgetMs: number;
    signal?: AbortSignal;
  }): Promise<{ examined: number; refreshed: number; failed: number; keys: string[] }>;
  /** Removes expired rows of the SQL tiers; `optimize_database` calls it. */
  removeExpired(): Promise<Record<string, number>>;
}

/** What `cleanup_performance_metrics` uses of the metrics history. */
export interface MaintenanceHistory {
  readonly store: {
    readonly name: string;
    readonly retention: { readonly minutesMs: number; readonly hoursMs: number };
    prune(): Promise<void>;
    series(): Promise<unknown[]>;
  };
}

/** What `cleanup_completed_tasks` asks of the task backend (the Redis backend's `cleanup`). */
export interface MaintenanceTaskStore {
  readonly name: string;
  cleanup?(options: {
    knownQueues: readonly string[];
    unusedQueueAfterMs: number;
    batchSize: number;
    dryRun: boolean;
    signal?: AbortSignal;
  }): Promise<MaintenanceOutcome>;
}

/**
 * The services a {@link Maintenance} works with, each read when a task runs (a module built later
 * is found then). The composition (`src/compose/maintenance.ts`) provides them from the instance.
 */
export interface MaintenanceServices {
  logger: Logger;
  tasks?: () => MaintenanceTaskHost | undefined;
  taskStore?: () => Promise<MaintenanceTaskStore | undefined>;
  /** The queues this process's handlers use: never treated as unused. */
  knownQueues?: () => readonly string[];
  history?: () => MaintenanceHistory | undefined;
  health?: () => Promise<HealthReport>;
  cache?: () => MaintenanceCache | undefined;
  reports?: () => MaintenanceReportRunner | undefined;
  /** What `exportState()` and `importState()` read and write. */
  backup?: BackupServices;
  /** Told of every run once recorded (the composition re-evaluates the alerts on a failure). */
  onResult?: (result: MaintenanceRunResult) => void;
}
