import type { Duration } from '../../core/duration.js';
import { durationOption, numberOption } from '../option-checks.js';
import type {
  MaintenanceOutcome,
  MaintenanceRunContext,
  MaintenanceTaskOptions,
  MaintenanceTaskStore,
} from '../types.js';

/**
 * Options of `cleanup_completed_tasks`.
 *
 * @example
 * ```ts
 * enterprise.maintenance.enable({ cleanup_completed_tasks: { unusedQueueAfter: '30d', batchSize: 200 } });
 * ```
 */
export interface CleanupCompletedTasksOptions extends MaintenanceTaskOptions {
  /**
   * A queue no handler of this process uses, with nothing waiting, running or blocked, no live
   * worker and no task finished for this long, is removed with its finished tasks. @defaultValue '7d'
   */
  unusedQueueAfter?: Duration;
  /** Keys examined (SCAN COUNT) and repaired per round trip. @defaultValue 500 */
  batchSize?: number;
}

/** @internal Checks the options when given. */
export function checkCleanupTasksOptions(options: CleanupCompletedTasksOptions): void {
  durationOption(options.unusedQueueAfter, '7d', 'cleanup_completed_tasks.unusedQueueAfter');
  numberOption(
    options.batchSize,
    500,
    'cleanup_completed_tasks.batchSize',
    (n) => Number.isInteger(n) && n >= 10 && n <= 10_000,
    'an integer from 10 to 10000',
  );
}

/** @internal `cleanup_completed_tasks`: the backend's own repair, where it has one. */
export async function cleanupCompletedTasks(
  options: CleanupCompletedTasksOptions,
  store: MaintenanceTaskStore | undefined,
  knownQueues: readonly string[],
  context: MaintenanceRunContext,
): Promise<MaintenanceOutcome> {
  if (store === undefined) {
    return { examined: {}, done: {}, notes: ['the tasks module is not in use in this process'] };
  }
  if (typeof store.cleanup !== 'function') {
    return {
      examined: {},
      done: {},
      notes: [`the ${store.name} task backend keeps its retention by itself: nothing to repair`],
    };
  }
  return store.cleanup({
    knownQueues,
    unusedQueueAfterMs: durationOption(options.unusedQueueAfter, '7d', 'unusedQueueAfter'),
    batchSize: options.batchSize ?? 500,
    dryRun: context.dryRun,
    signal: context.signal,
  });
}
