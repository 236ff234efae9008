import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise } from '../../../src/index.js';
import { type RedisTaskBackend, redisTaskBackend } from '../../../src/tasks/backends/redis.js';
import { eventually } from '../../support/eventually.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import { adminClient, deleteKeys, spawnWorker, testPrefix } from './helpers.js';

/**
 * Two processes on one Redis whose clocks disagree by ten leases. Leases end by the Redis server's
 * clock, so neither process takes over a lease the other still holds and renews: no task runs on
 * both at once, whichever clock is off.
 */
describe.runIf(requires(redis))('redis task backend: processes whose clocks disagree', () => {
  const leaseMs = 1_000;
  const skewMs = 10 * leaseMs;
  let admin: Redis;
  beforeAll(() => {
    admin = adminClient();
  });
  afterAll(async () => {
    await admin.quit();
  });

  const setup = (label: string) => {
    const prefix = testPrefix(label);
    const backend = redisTaskBackend({ url: REDIS_URL, prefix, commandTimeoutMs: 300 });
    const enterprise = createEnterprise({
      logLevel: 'silent',
      performance: { systemMetrics: false },
      tasks: {
        backend,
        queueName: 'clock',
        workerCount: 3,
        concurrency: { min: 3, max: 3 },
        leaseMs,
      },
    });
    return { prefix, backend, enterprise };
  };
  const teardown = async (s: {
    prefix: string;
    backend: RedisTaskBackend;
    enterprise: Enterprise;
  }) => {
    await s.enterprise.shutdown();
    await s.backend.close();
    await deleteKeys(admin, s.prefix);
  };

  it('a process whose clock runs ahead does not recover the live leases of another', async () => {
    const s = setup('clock-ahead');
    const runs: string[] = [];
    s.enterprise.tasks.register('clock_job', async (_payload: unknown, context) => {
      runs.push(context.id);
      await sleep(3_000);
    });
    const child = spawnWorker('clock-worker.ts', {
      PREFIX: s.prefix,
      QUEUE: 'clock',
      LEASE_MS: String(leaseMs),
      CLOCK_OFFSET_MS: String(skewMs),
    });
    const childRuns: string[] = [];
    try {
      await s.enterprise.start();
      const ids = await s.enterprise.tasks.submitMany(
        Array.from({ length: 3 }, () => ({ name: 'clock_job' })),
      );
      await eventually(() => runs.length === 3, 'three attempts running here', 5_000);
      // The child recovers expired leases every half lease, by a clock ten leases ahead.
      await child.lines((line) => {
        if (line.startsWith('run ')) childRuns.push(line.slice(4));
        return line === 'ready';
      });
      // (The listener above keeps collecting the child's lines.)
      for (const id of ids) {
        await s.enterprise.tasks.waitFor(id, { timeout: '10s' });
      }
      expect(childRuns).toEqual([]);
      expect([...runs].sort()).toEqual([...ids].sort());
    } finally {
      child.process.kill('SIGKILL');
      await child.exited;
      await teardown(s);
    }
  }, 30_000);

  it('a process whose clock lags keeps its leases: nobody else runs its tasks meanwhile', async () => {
    const s = setup('clock-behind');
    const runs: string[] = [];
    s.enterprise.tasks.register('clock_job', (_payload: unknown, context) => {
      runs.push(context.id);
    });
    const child = spawnWorker('clock-worker.ts', {
      PREFIX: s.prefix,
      QUEUE: 'clock',
      LEASE_MS: String(leaseMs),
      WORK_MS: '3000',
      CONCURRENCY: '2',
      CLOCK_OFFSET_MS: String(-skewMs),
    });
    const childRuns: string[] = [];
    try {
      await child.lines((line) => line === 'ready');
      const ids = await s.enterprise.tasks.submitMany(
        Array.from({ length: 2 }, () => ({ name: 'clock_job', options: { allowUnknown: true } })),
      );
      await child.lines((line) => {
        if (line.startsWith('run ')) childRuns.push(line.slice(4));
        return childRuns.length === 2;
      });
      // This process recovers expired leases every half lease, and runs what it recovers.
      await s.enterprise.start();
      for (const id of ids) {
        await s.enterprise.tasks.waitFor(id, { timeout: '10s' });
      }
      expect([...childRuns].sort()).toEqual([...ids].sort());
      expect(runs).toEqual([]);
    } finally {
      child.process.kill('SIGKILL');
      await child.exited;
      await teardown(s);
    }
  }, 30_000);
});
