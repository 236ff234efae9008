export {
  BACKUP_VERSION,
  type BackupAlertRule,
  type BackupAlerts,
  type BackupDocument,
  type BackupServices,
  type BackupSilence,
  type BackupTaskStore,
  type ExportStateOptions,
  type ImportCounts,
  type ImportStateOptions,
  type ImportStateResult,
} from './backup-types.js';
export {
  MaintenanceBackupError,
  MaintenanceConfigError,
  MaintenanceTaskError,
  MaintenanceTimeoutError,
  MaintenanceUnknownTaskError,
} from './errors.js';
export {
  Maintenance,
  type MaintenanceRunOptions,
  type MaintenanceTaskStatus,
  scheduleNameOf,
} from './maintenance.js';
export { DEFAULT_SCHEDULES, type MaintenanceOptions } from './options.js';
export type { PgClientLike, PgPoolLike, SqliteDatabaseLike } from './sql.js';
export type { CacheWarmingOptions } from './tasks/cache-warming.js';
export type { CleanupCompletedTasksOptions } from './tasks/cleanup-completed-tasks.js';
export type {
  CleanupOldContentOptions,
  RetentionFunction,
  RetentionFunctionContext,
  RetentionRule,
} from './tasks/cleanup-old-content.js';
export type { OptimizeDatabaseOptions } from './tasks/optimize-database.js';
export type { AnalyticsReportOptions } from './tasks/small-tasks.js';
export {
  MAINTENANCE_TASKS,
  type MaintenanceCache,
  type MaintenanceHistory,
  type MaintenanceOutcome,
  type MaintenanceReportRunner,
  type MaintenanceRunContext,
  type MaintenanceRunResult,
  type MaintenanceServices,
  type MaintenanceTaskHost,
  type MaintenanceTaskName,
  type MaintenanceTaskOptions,
  type MaintenanceTaskStore,
} from './types.js';
