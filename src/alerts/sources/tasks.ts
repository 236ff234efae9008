import { type Clock, systemClock } from '../../core/clock.js';
import type { QueueStats, TaskStats } from '../../tasks/api-types.js';
import type { ValueSource } from '../types.js';
import { sharedRead } from './shared-read.js';

/**
 * What the task sources read of a task manager (a `TaskManager` is one). Declared by its shape
 * rather than picked from `TaskManager`: the manager's file reaches the composition root (through
 * the default instance's registry), and the alerts module must not.
 */
export interface TaskStatsReader {
  stats(): Promise<TaskStats>;
}

/**
 * Options of {@link taskSources}.
 *
 * @example
 * ```ts
 * const options: TaskSourceOptions = { reuseMs: 5_000 };
 * ```
 */
export interface TaskSourceOptions {
  /**
   * Sources read within this many milliseconds share one `stats()` call (with the Redis backend,
   * a few round trips per queue). @defaultValue 1000
   */
  reuseMs?: number;
  /** @internal The time source of `reuseMs`, for tests. */
  clock?: Pick<Clock, 'now'>;
}

/** A per-queue figure, `null` when the queue has nothing to report. */
type QueueFigure = (queue: QueueStats) => number | null;

const QUEUE_FIGURES: readonly [string, string, QueueFigure][] = [
  ['queue_depth', 'Tasks ready and waiting for a worker', (q) => q.waiting],
  [
    'oldest_waiting_age_ms',
    'Age of the oldest ready task still waiting, ms (0 when none waits)',
    (q) => q.oldestWaitingMs,
  ],
  [
    'failure_rate',
    "Share of this process's attempts that failed over the last minute, 0 to 1",
    (q) => {
      const finished = q.throughput + q.failedPerSecond;
      return finished === 0 ? null : q.failedPerSecond / finished;
    },
  ],
  ['dead_letters', 'Tasks in the dead letter queue', (q) => q.dead],
];

/**
 * The value sources of the task module: per queue (labels `{ queue }`), `tasks.queue_depth` (tasks
 * ready and waiting), `tasks.oldest_waiting_age_ms`, `tasks.failure_rate` (failed attempts over
 * finished ones in this process over the last minute, `null` when none finished) and
 * `tasks.dead_letters` (tasks in the dead letter queue); and `tasks.workers_alive`, the worker pools
 * of every process that are healthy (heartbeating and, while holding tasks, completing them), one
 * series without labels.
 *
 * @example
 * ```ts
 * const sources = taskSources(enterprise.tasks);
 * // tasks.queue_depth: [{ labels: { queue: 'default' }, value: 12 }, { labels: { queue: 'emails' }, value: 0 }]
 * ```
 */
export function taskSources(
  tasks: TaskStatsReader,
  options: TaskSourceOptions = {},
): ValueSource[] {
  const stats = sharedRead(
    () => tasks.stats(),
    options.reuseMs ?? 1_000,
    options.clock ?? systemClock,
  );
  const sources: ValueSource[] = QUEUE_FIGURES.map(([figure, description, pick]) => ({
    name: `tasks.${figure}`,
    description,
    read: async () =>
      (await stats()).queues.map((queue) => ({
        labels: { queue: queue.name },
        value: pick(queue),
      })),
  }));
  sources.push({
    name: 'tasks.workers_alive',
    description: 'Healthy worker pools of every process (heartbeating, completing what they hold)',
    read: async () => [
      { labels: {}, value: (await stats()).workers.filter((worker) => worker.healthy).length },
    ],
  });
  return sources;
}
