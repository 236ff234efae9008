import type { HealthStatus } from '../resilience/health-types.js';
import type { ResolvedMaintenance, ResolvedTask } from './options.js';
import {
  type CacheWarmingOptions,
  cacheWarming,
  checkCacheWarmingOptions,
} from './tasks/cache-warming.js';
import {
  type CleanupCompletedTasksOptions,
  checkCleanupTasksOptions,
  cleanupCompletedTasks,
} from './tasks/cleanup-completed-tasks.js';
import {
  type CleanupOldContentOptions,
  cleanupOldContent,
  compileRules,
} from './tasks/cleanup-old-content.js';
import {
  checkOptimizeOptions,
  type OptimizeDatabaseOptions,
  optimizeDatabase,
} from './tasks/optimize-database.js';
import {
  type AnalyticsReportOptions,
  checkReportOptions,
  cleanupPerformanceMetrics,
  generateAnalyticsReport,
  systemHealthCheck,
} from './tasks/small-tasks.js';
import type { MaintenanceOutcome, MaintenanceRunContext, MaintenanceServices } from './types.js';

/** @internal Checks a task's own options when they are given (through `enable()`). */
export function checkTaskOptions(task: ResolvedTask): void {
  const options = task.options;
  if (task.name === 'cleanup_completed_tasks') {
    checkCleanupTasksOptions(options as CleanupCompletedTasksOptions);
  } else if (task.name === 'optimize_database') {
    checkOptimizeOptions(options as OptimizeDatabaseOptions);
  } else if (task.name === 'cache_warming') {
    checkCacheWarmingOptions(options as CacheWarmingOptions);
  } else if (task.name === 'cleanup_old_content') {
    compileRules(options as CleanupOldContentOptions);
  } else if (task.name === 'generate_analytics_report') {
    checkReportOptions(options as AnalyticsReportOptions);
  }
}

/** @internal What the runners keep between runs (the health statuses of the last check). */
export interface RunnerState {
  health: Map<string, HealthStatus>;
}

/** @internal Runs one task with the services it needs, read now. */
export async function runTask(
  task: ResolvedTask,
  settings: ResolvedMaintenance,
  services: MaintenanceServices,
  state: RunnerState,
  context: MaintenanceRunContext,
): Promise<MaintenanceOutcome> {
  const options = task.options;
  switch (task.name) {
    case 'cleanup_completed_tasks':
      return cleanupCompletedTasks(
        options as CleanupCompletedTasksOptions,
        await services.taskStore?.(),
        services.knownQueues?.() ?? [],
        context,
      );
    case 'cleanup_performance_metrics':
      return cleanupPerformanceMetrics(services.history?.(), context);
    case 'optimize_database': {
      const own = options as OptimizeDatabaseOptions;
      return optimizeDatabase(
        {
          ...own,
          postgres: own.postgres ?? settings.database.postgres,
          sqlite: own.sqlite ?? settings.database.sqlite,
        },
        services.cache?.(),
        context,
      );
    }
    case 'cache_warming':
      return cacheWarming(options as CacheWarmingOptions, services.cache?.(), context);
    case 'cleanup_old_content': {
      const own = options as CleanupOldContentOptions;
      return cleanupOldContent(
        { ...own, postgres: own.postgres ?? settings.database.postgres },
        context,
      );
    }
    case 'system_health_check': {
      const { statuses, ...outcome } = await systemHealthCheck(services.health, state.health);
      state.health = statuses;
      return outcome;
    }
    case 'generate_analytics_report':
      return generateAnalyticsReport(
        options as AnalyticsReportOptions,
        services.reports?.(),
        context,
      );
  }
}
