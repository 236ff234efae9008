import type { QueueGroupStats, QueueStats, TaskStats, WorkerStats } from './api-types.js';
import type { TaskSettings } from './settings.js';
import { FailureGroups, type TaskAnalytics } from './task-analytics.js';
import type { TaskQueues } from './task-queues.js';
import type { GroupList, QueueCounts, TaskBackend, WorkerInfo } from './types.js';

/** Groups listed by name per queue in `stats()` and the metrics; the rest are "other". */
const TOP_GROUPS = 10;

/** A queue's groups for `stats()`: none when it has neither groups nor limits. */
function groupStats(
  queue: string,
  list: GroupList,
  analytics: TaskAnalytics,
  now: number,
): QueueGroupStats | undefined {
  if (list.total === 0 && Object.keys(list.limits).length === 0) return undefined;
  const top = list.groups.map((g) => ({
    ...g,
    throughput: analytics.groups.perSecond(queue, g.group, now),
  }));
  let waiting = 0;
  let active = 0;
  for (const g of top) {
    waiting += g.waiting;
    active += g.active;
  }
  return {
    total: list.total,
    waiting: list.waiting,
    active: list.active,
    limits: list.limits,
    top,
    other: {
      groups: Math.max(0, list.total - top.length),
      waiting: Math.max(0, list.waiting - waiting),
      active: Math.max(0, list.active - active),
    },
  };
}

/**
 * @internal What `tasks.stats()` reports: every known queue's counts and workers (the counts are
 * also kept in `known` for the Prometheus exposition), and this process's throughput and failures.
 */
export async function taskStats(
  backend: TaskBackend,
  queues: TaskQueues,
  known: Map<string, QueueCounts>,
  analytics: TaskAnalytics,
  settings: Pick<TaskSettings, 'heartbeatMs' | 'stalledAfterMs'>,
): Promise<TaskStats> {
  const now = Date.now();
  const list: QueueStats[] = [];
  const deadGroups = new FailureGroups();
  for (const name of await queues.all()) {
    const [counts, workers, dead, groups] = await Promise.all([
      backend.counts(name),
      backend.workers(name),
      backend.listDead(name, 0, 100),
      backend.groups?.(name, TOP_GROUPS),
    ]);
    known.set(name, counts);
    const queueRate = analytics.rate(now, name);
    for (const task of dead) {
      if (task.error !== undefined)
        deadGroups.add(task.name, task.error, task.id, task.finishedAt ?? now);
    }
    list.push({
      name,
      paused: counts.paused,
      waiting: counts.waiting,
      delayed: counts.delayed,
      blocked: counts.blocked,
      active: counts.active,
      completed: counts.completed,
      dead: counts.dead,
      oldestWaitingMs:
        counts.oldestWaitingAt === undefined ? 0 : Math.max(0, now - counts.oldestWaitingAt),
      throughput: queueRate.completed,
      failedPerSecond: queueRate.failed,
      workers: workers.map((w) => workerHealth(w, now, settings)),
    });
    const grouped = groups === undefined ? undefined : groupStats(name, groups, analytics, now);
    if (grouped === undefined) analytics.groups.latest.delete(name);
    else {
      list[list.length - 1]!.groups = grouped;
      analytics.groups.latest.set(name, grouped);
    }
  }
  const rate = analytics.rate(now);
  return {
    backend: backend.name,
    queues: list,
    workers: list.flatMap((q) => q.workers),
    throughput: { completedPerSecond: rate.completed, failedPerSecond: rate.failed },
    totals: { ...analytics.totals },
    failures: analytics.failures.list(),
    deadLetterFailures: deadGroups.list(),
  };
}

/** A worker with whether it looks healthy: heartbeating, and completing what it holds. */
function workerHealth(
  worker: WorkerInfo,
  now: number,
  settings: Pick<TaskSettings, 'heartbeatMs' | 'stalledAfterMs'>,
): WorkerStats {
  const { heartbeatMs, stalledAfterMs } = settings;
  const stats: WorkerStats = { ...worker, healthy: true };
  if (now - worker.lastHeartbeatAt > 2 * heartbeatMs) {
    stats.healthy = false;
    stats.reason = `no heartbeat for ${Math.round((now - worker.lastHeartbeatAt) / 1000)} s`;
  } else if (
    worker.active > 0 &&
    now - (worker.lastCompletedAt ?? worker.startedAt) > stalledAfterMs
  ) {
    stats.healthy = false;
    stats.reason = `holds ${worker.active} task(s) but completed none for ${Math.round((now - (worker.lastCompletedAt ?? worker.startedAt)) / 1000)} s`;
  }
  return stats;
}
