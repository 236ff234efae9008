import type { MetricFamily } from '../performance/prometheus.js';
import type { QueueCounts } from './types.js';

/** What the task collector reads. @internal */
export interface TaskMetricsInput {
  /** Latest counts per queue (refreshed while started, and by `stats()`). */
  counts: ReadonlyMap<string, QueueCounts>;
  /** This process's worker pools. */
  pools: readonly { queue: string; concurrency: number; active: number }[];
  /** Attempts of this process per queue and task name. */
  byTask: readonly { queue: string; task: string; completed: number; failed: number }[];
  now: number;
}

const STATES = ['waiting', 'delayed', 'blocked', 'active', 'completed', 'dead'] as const;

/**
 * The task module's Prometheus families. Durations per task name are the performance registry's
 * `operation_duration_seconds{operation="task",task=...}` histogram; these add the queue side.
 *
 * @internal
 */
export function taskMetricFamilies(
  prefix: string,
  input: TaskMetricsInput | undefined,
): MetricFamily[] {
  const p = `${prefix}tasks_`;
  const counts = [...(input?.counts ?? new Map<string, QueueCounts>())];
  return [
    {
      name: `${p}queue_depth`,
      help: 'Tasks of a queue per state (last refresh).',
      type: 'gauge',
      samples: counts.flatMap(([queue, c]) =>
        STATES.map((state) => ({
          name: `${p}queue_depth`,
          labels: { queue, state },
          value: c[state],
        })),
      ),
    },
    {
      name: `${p}oldest_waiting_seconds`,
      help: 'Age of the oldest ready task still waiting in a queue, in seconds (0 when none waits).',
      type: 'gauge',
      samples: counts.map(([queue, c]) => ({
        name: `${p}oldest_waiting_seconds`,
        labels: { queue },
        value:
          c.oldestWaitingAt === undefined
            ? 0
            : Math.max(0, (input!.now - c.oldestWaitingAt) / 1000),
      })),
    },
    {
      name: `${p}queue_paused`,
      help: 'Whether a queue is paused (1) or not (0).',
      type: 'gauge',
      samples: counts.map(([queue, c]) => ({
        name: `${p}queue_paused`,
        labels: { queue },
        value: c.paused ? 1 : 0,
      })),
    },
    {
      name: `${p}worker_slots`,
      help: 'Worker slots of this process per queue (auto-scaling moves it).',
      type: 'gauge',
      samples: (input?.pools ?? []).map((pool) => ({
        name: `${p}worker_slots`,
        labels: { queue: pool.queue },
        value: pool.concurrency,
      })),
    },
    {
      name: `${p}running`,
      help: 'Tasks this process is running per queue.',
      type: 'gauge',
      samples: (input?.pools ?? []).map((pool) => ({
        name: `${p}running`,
        labels: { queue: pool.queue },
        value: pool.active,
      })),
    },
    {
      name: `${p}attempts_total`,
      help: 'Task attempts finished by this process, by queue, task name and outcome.',
      type: 'counter',
      samples: (input?.byTask ?? []).flatMap((t) => [
        {
          name: `${p}attempts_total`,
          labels: { queue: t.queue, task: t.task, outcome: 'completed' },
          value: t.completed,
        },
        {
          name: `${p}attempts_total`,
          labels: { queue: t.queue, task: t.task, outcome: 'failed' },
          value: t.failed,
        },
      ]),
    },
  ];
}
