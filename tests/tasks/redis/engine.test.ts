import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnterprise } from '../../../src/index.js';
import { redisTaskBackend } from '../../../src/tasks/backends/redis.js';
import { eventually } from '../../support/eventually.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import { adminClient, deleteKeys, spawnWorker, testPrefix } from './helpers.js';

/**
 * The failure tests of issue 4 through the real engine. A child process runs real workers on the
 * Redis backend and is killed with SIGKILL while handlers run; this process's workers then finish
 * the queue: nothing is lost, and only the tasks the child was running when it died run twice.
 * And workers whose Redis connections are killed (CLIENT KILL) keep consuming without a restart.
 */
describe.runIf(requires(redis))('redis backend under the task engine', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = adminClient();
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('runs the tasks of a SIGKILLed worker again after its lease, and no other twice', async () => {
    const prefix = testPrefix('engine-crash');
    const queue = 'crash';
    const leaseMs = 1_000;
    // A lease must cover three command timeouts (see checkLeaseMs).
    const backend = redisTaskBackend({ url: REDIS_URL, prefix, commandTimeoutMs: 333 });
    const parentRuns: { id: string; attempt: number }[] = [];
    const enterprise = createEnterprise({
      logLevel: 'silent',
      tasks: {
        backend,
        queueName: queue,
        workerCount: 4,
        concurrency: { min: 4, max: 4 },
        leaseMs,
      },
    });
    try {
      const ids = await enterprise.tasks.submitMany(
        Array.from({ length: 80 }, (_, i) => ({ name: 'crash_job', payload: { i } })),
      );
      const child = spawnWorker('engine-worker.ts', {
        PREFIX: prefix,
        QUEUE: queue,
        LEASE_MS: String(leaseMs),
        WORK_MS: '20',
        CONCURRENCY: '4',
      });
      const started = new Set<string>();
      const done = new Set<string>();
      try {
        await child.lines((line) => {
          const [kind, id] = line.split(' ');
          if (kind === 'start') started.add(id!);
          if (kind === 'done') done.add(id!);
          // Killed while it runs handlers it has not finished.
          return kind === 'start' && done.size >= 20;
        });
      } finally {
        child.process.kill('SIGKILL');
        await child.exited;
      }
      const inFlight = [...started].filter((id) => !done.has(id));
      expect(inFlight.length).toBeGreaterThan(0);
      // Whether the child recorded the start of each in-flight attempt before it died (it sends
      // starts in its next batch): a recorded one counts, one killed before counts nothing.
      const recorded = new Map<string, number>();
      for (const id of inFlight) recorded.set(id, (await backend.get(queue, id))?.attempts ?? -1);

      // This process takes over: its workers, and its recovery loop for expired leases.
      enterprise.tasks.register('crash_job', async (_payload: unknown, context) => {
        parentRuns.push({ id: context.id, attempt: context.attempt });
        return { by: 'parent' };
      });
      await enterprise.start();
      const deadline = Date.now() + 15_000;
      while ((await backend.counts(queue)).completed < ids.length) {
        if (Date.now() > deadline) throw new Error('the queue was not finished in time');
        await sleep(50);
      }

      // No task lost.
      for (const id of ids) {
        expect((await enterprise.tasks.get(id))?.state).toBe('completed');
      }
      // Run twice only if the child was running it when it died; those count the lost attempt.
      const twice = parentRuns.filter((run) => started.has(run.id));
      expect(twice.length).toBeGreaterThan(0);
      for (const run of twice) {
        expect(inFlight).toContain(run.id);
        expect(run.attempt).toBe(recorded.get(run.id)! + 1);
      }
      for (const id of done) expect(parentRuns.map((run) => run.id)).not.toContain(id);
      // Every task the child never touched ran exactly once, here.
      const untouched = ids.filter((id) => !started.has(id));
      const counts = new Map<string, number>();
      for (const run of parentRuns) counts.set(run.id, (counts.get(run.id) ?? 0) + 1);
      for (const id of untouched) expect(counts.get(id)).toBe(1);
    } finally {
      await enterprise.shutdown();
      await backend.close();
      await deleteKeys(admin, prefix);
    }
  }, 40_000);

  it('gives the prefetched tasks of a SIGKILLed worker back without spending an attempt', async () => {
    const prefix = testPrefix('engine-prefetch');
    const queue = 'prefetch';
    const leaseMs = 1_000;
    const backend = redisTaskBackend({ url: REDIS_URL, prefix, commandTimeoutMs: 300 });
    const enterprise = createEnterprise({
      logLevel: 'silent',
      performance: { systemMetrics: false },
      tasks: { backend, queueName: queue, workerCount: 2, leaseMs },
    });
    try {
      // No retry allowed: a task may only run again if its first attempt never started.
      const ids = await enterprise.tasks.submitMany(
        Array.from({ length: 20 }, (_, i) => ({
          name: 'crash_job',
          payload: { i },
          options: { maxRetries: 0 },
        })),
      );
      const child = spawnWorker('engine-worker.ts', {
        PREFIX: prefix,
        QUEUE: queue,
        LEASE_MS: String(leaseMs),
        WORK_MS: '60000',
        CONCURRENCY: '2',
        PREFETCH: '8',
      });
      const started = new Set<string>();
      try {
        await child.lines((line) => {
          const [kind, id] = line.split(' ');
          if (kind === 'start') started.add(id!);
          return started.size === 2;
        });
        // Its two handlers run; their starts reach Redis with the child's next batch.
        await sleep(500);
      } finally {
        child.process.kill('SIGKILL');
        await child.exited;
      }
      // What Redis holds at the kill: 2 started attempts and 8 claimed ahead, never started.
      const held = (await Promise.all(ids.map((id) => backend.get(queue, id)))).filter(
        (record) => record?.state === 'active',
      );
      expect(held).toHaveLength(10);
      const prefetched = held.filter((record) => record!.attempts === 0).map((r) => r!.id);
      expect(prefetched).toHaveLength(8);
      expect(
        held
          .filter((record) => record!.attempts === 1)
          .map((r) => r!.id)
          .sort(),
      ).toEqual([...started].sort());

      const runs = new Map<string, number>();
      enterprise.tasks.register('crash_job', (_payload: unknown, context) => {
        runs.set(context.id, context.attempt);
      });
      await enterprise.start();
      await eventually(
        async () => {
          const c = await backend.counts(queue);
          return c.completed + c.dead === ids.length;
        },
        'every task ended',
        15_000,
      );
      // Prefetched and never started: they run now, as their first attempt.
      for (const id of prefetched) {
        expect(runs.get(id)).toBe(1);
        expect(await backend.get(queue, id)).toMatchObject({ state: 'completed', attempts: 1 });
      }
      // Started and lost with the child: that was their one attempt.
      for (const id of started) {
        expect(runs.has(id)).toBe(false);
        const record = await backend.get(queue, id);
        expect(record?.state).toBe('dead');
        expect(record?.error?.name).toBe('TaskLeaseLostError');
      }
      // The others ran once, as attempt 1.
      for (const id of ids) if (!held.some((r) => r!.id === id)) expect(runs.get(id)).toBe(1);
    } finally {
      await enterprise.shutdown();
      await backend.close();
      await deleteKeys(admin, prefix);
    }
  }, 40_000);

  it('keeps consuming through CLIENT KILL of its connections, without a restart, losing nothing', async () => {
    const prefix = testPrefix('engine-kill');
    const queue = 'kill';
    const backend = redisTaskBackend({ url: REDIS_URL, prefix, commandTimeoutMs: 333 });
    const producer = redisTaskBackend({ url: REDIS_URL, prefix: prefix });
    const enterprise = createEnterprise({
      logLevel: 'silent',
      tasks: {
        backend,
        queueName: queue,
        workerCount: 8,
        concurrency: { min: 8, max: 8 },
        leaseMs: 1_000,
      },
    });
    const producerSide = createEnterprise({
      logLevel: 'silent',
      tasks: { backend: producer, queueName: queue },
    });
    const runs = new Map<string, number>();
    enterprise.tasks.register('kill_job', async (_payload: unknown, context) => {
      runs.set(context.id, (runs.get(context.id) ?? 0) + 1);
      await sleep(2);
    });
    try {
      await enterprise.start();
      const ids: string[] = [];
      let killed = 0;
      for (let round = 0; round < 6; round++) {
        ids.push(
          ...(await producerSide.tasks.submitMany(
            Array.from({ length: 60 }, (_, i) => ({
              name: 'kill_job',
              payload: { round, i },
              options: { allowUnknown: true },
            })),
          )),
        );
        await sleep(150);
        // Every connection of the consuming process: commands, blocking wait (not the producer's).
        const list = String(await admin.client('LIST'));
        const spared = String(await producer.client.client('ID'));
        for (const line of list.split('\n')) {
          const id = /\bid=(\d+)/.exec(line)?.[1];
          const name = /\bname=(\S*)/.exec(line)?.[1] ?? '';
          if (id === undefined || id === spared || !name.startsWith(`${prefix}:`)) continue;
          killed += Number(await admin.client('KILL', 'ID', id).catch(() => 0));
        }
      }
      expect(killed).toBeGreaterThanOrEqual(6);
      const deadline = Date.now() + 15_000;
      while ((await producer.counts(queue)).completed < ids.length) {
        if (Date.now() > deadline) {
          throw new Error(`not finished in time: ${JSON.stringify(await producer.counts(queue))}`);
        }
        await sleep(50);
      }
      for (const id of ids) expect(runs.get(id)).toBeGreaterThanOrEqual(1);
    } finally {
      await enterprise.shutdown();
      await producerSide.shutdown();
      await Promise.all([backend.close(), producer.close()]);
      await deleteKeys(admin, prefix);
    }
  }, 40_000);
});
