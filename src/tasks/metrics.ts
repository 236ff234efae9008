import type { MetricFamily } from '../performance/prometheus.js';
import type { QueueGroupStats } from './api-types.js';
import { OTHER_GROUP } from './group-rates.js';
import type { QueueCounts } from './types.js';

/** What the task collector reads. @internal */
export interface TaskMetricsInput {
  /** Latest counts per queue (refreshed while started, and by `stats()`). */
  counts: ReadonlyMap<string, QueueCounts>;
  /** This process's worker pools. */
  pools: readonly { queue: string; concurrency: number; active: number }[];
  /** Attempts of this process per queue and task name. */
  byTask: readonly { queue: string; task: string; completed: number; failed: number }[];
  /** The group figures of each queue as `stats()` last read them (top groups and "other"). */
  groups?: ReadonlyMap<string, QueueGroupStats>;
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
    ...groupFamilies(p, input?.groups),
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

/**
 * Per-group families, bounded: the deepest groups of each queue by name (at most 10, as
 * `stats()` read them) and the others summed under `group="other"`.
 */
function groupFamilies(
  p: string,
  groups: ReadonlyMap<string, QueueGroupStats> | undefined,
): MetricFamily[] {
  const entries = [...(groups ?? new Map<string, QueueGroupStats>())];
  const depth = entries.flatMap(([queue, g]) => [
    ...g.top.flatMap((t) => [
      {
        name: `${p}group_depth`,
        labels: { queue, group: t.group, state: 'waiting' },
        value: t.waiting,
      },
      {
        name: `${p}group_depth`,
        labels: { queue, group: t.group, state: 'active' },
        value: t.active,
      },
    ]),
    {
      name: `${p}group_depth`,
      labels: { queue, group: OTHER_GROUP, state: 'waiting' },
      value: g.other.waiting,
    },
    {
      name: `${p}group_depth`,
      labels: { queue, group: OTHER_GROUP, state: 'active' },
      value: g.other.active,
    },
  ]);
  return [
    {
      name: `${p}group_depth`,
      help: 'Tasks of the deepest groups of a queue per state, the others summed as group "other" (last stats read).',
      type: 'gauge',
      samples: depth,
    },
    {
      name: `${p}group_throughput`,
      help: 'Tasks of a group completed per second by this process over the last minute (deepest groups).',
      type: 'gauge',
      samples: entries.flatMap(([queue, g]) =>
        g.top.map((t) => ({
          name: `${p}group_throughput`,
          labels: { queue, group: t.group },
          value: t.throughput,
        })),
      ),
    },
    {
      name: `${p}groups`,
      help: 'Groups of a queue with work, held tasks, paused or waiting out a limit.',
      type: 'gauge',
      samples: entries.map(([queue, g]) => ({
        name: `${p}groups`,
        labels: { queue },
        value: g.total,
      })),
    },
  ];
}
