import { clusterAnswer, clusterScope } from '../cluster-scope.js';
import { jsonResponse as json } from '../responses.js';
import { disabledTasksSnapshot } from '../snapshot.js';
import type { HandlerContext, Handlers } from './types.js';

/** @internal The task figures and the task actions (dead letters, queue pause and resume). */
export function taskHandlers({
  enterprise,
  tasks,
  log,
}: HandlerContext): Handlers<
  'tasksMonitoring' | 'retryDeadTask' | 'purgeDeadTasks' | 'pauseQueue' | 'resumeQueue'
> {
  return {
    tasksMonitoring: async (c) => {
      const cluster = clusterScope(enterprise, c.req.query('scope'));
      // Queues, workers and dead letters live in the task backend, which a deployment shares:
      // this instance reads them; throughput and totals are each process's own, so they are summed.
      const clusterFigures = cluster === undefined ? undefined : clusterAnswer(cluster.tasks());
      if (!tasks.enabled) {
        const { readAt: _readAt, stale: _stale, ...figures } = disabledTasksSnapshot();
        return json(
          clusterFigures === undefined ? figures : { ...figures, ...(await clusterFigures) },
        );
      }
      const [overview, deadLetters, deployment] = await Promise.all([
        tasks.overview(),
        tasks.deadLetters(50),
        clusterFigures,
      ]);
      return json({ enabled: true, ...overview, deadLetters, ...deployment });
    },
    retryDeadTask: async (c) => {
      const id = c.req.param('id') ?? '';
      await tasks.retryDead(id, c.req.query('queue'));
      log.info({ action: 'retry-dead-task', id }, 'dead task retried from the monitoring router');
      return json({ ok: true, id });
    },
    purgeDeadTasks: async (c) => {
      const queue = c.req.query('queue');
      const removed = await tasks.purgeDead(queue);
      log.info({ action: 'purge-dead-tasks', queue, removed }, 'dead letter queue purged');
      return json({ ok: true, queue: queue ?? null, removed });
    },
    pauseQueue: async (c) => {
      const queue = c.req.param('queue') ?? '';
      await tasks.pause(queue);
      log.info({ action: 'pause-queue', queue }, 'queue paused from the monitoring router');
      return json({ ok: true, queue, paused: true });
    },
    resumeQueue: async (c) => {
      const queue = c.req.param('queue') ?? '';
      await tasks.resume(queue);
      log.info({ action: 'resume-queue', queue }, 'queue resumed from the monitoring router');
      return json({ ok: true, queue, paused: false });
    },
  };
}
