// Redis forgets its Lua scripts on a restart, a failover or SCRIPT FLUSH; every script then goes
// again by EVAL, the first ones after the later calls that found the script loaded. Two instances
// run a mixed workload on a private Redis flushed every few milliseconds: nothing may be lost, run
// twice, run before what it depends on, or keep an older progress.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise } from '../../../src/index.js';
import { redisTaskBackend } from '../../../src/tasks/backends/redis.js';
import { redisServer, usePrivateRedis } from '../../support/private-redis.js';
import { requires } from '../../support/requirements.js';
import { flushScripts, scriptFallbacks } from '../../support/script-flusher.js';

interface Step {
  n: number;
  failOnce?: boolean;
}

describe.runIf(requires(redisServer))(
  'the Redis task backend while Redis forgets its scripts',
  () => {
    const redis = usePrivateRedis();

    it('runs every task once, after what it depends on, with its last progress', async () => {
      let seq = 0;
      const attempts = new Map<string, number[]>();
      const startedAt = new Map<string, number>();
      const finishedAt = new Map<string, number>();
      const instances: Enterprise[] = [];
      for (let i = 0; i < 2; i++) {
        const enterprise = createEnterprise({
          logLevel: 'silent',
          env: {},
          alerts: false,
          performance: { systemMetrics: false },
          tasks: {
            backend: redisTaskBackend({ url: redis.url, prefix: 'flush' }),
            workerCount: 8,
            backoff: { delay: '10ms', jitter: 0 },
          },
        });
        enterprise.tasks.register('step', async ({ n, failOnce }: Step, ctx) => {
          attempts.set(ctx.id, [...(attempts.get(ctx.id) ?? []), ctx.attempt]);
          if (ctx.attempt === 1) startedAt.set(ctx.id, seq++);
          for (let step = 1; step <= 3; step++) {
            ctx.progress(step);
            await sleep(1);
          }
          if (failOnce === true && ctx.attempt === 1) throw new Error('the first attempt fails');
          finishedAt.set(ctx.id, seq++);
          return n * 2;
        });
        instances.push(enterprise);
      }
      const before = await scriptFallbacks(redis.admin);
      const flusher = flushScripts(redis.admin);
      try {
        for (const enterprise of instances) await enterprise.start();
        const submitter = instances[0]!;
        const plain = await submitter.tasks.submitMany(
          Array.from({ length: 200 }, (_, n) => ({
            name: 'step',
            payload: { n, failOnce: n % 5 === 0 },
          })),
        );
        const grouped = await submitter.tasks.submitMany(
          Array.from({ length: 60 }, (_, i) => ({
            name: 'step',
            payload: { n: 1_000 + i },
            options: { group: `tenant-${i % 3}` },
          })),
        );
        // Chains of three, each submitted one by one while the workers run.
        const chains: string[][] = [];
        for (let c = 0; c < 15; c++) {
          const first = await submitter.tasks.submit('step', { n: 2_000 + c });
          const second = await submitter.tasks.submit(
            'step',
            { n: 3_000 + c },
            { dependsOn: [first] },
          );
          const third = await submitter.tasks.submit(
            'step',
            { n: 4_000 + c },
            { dependsOn: [second] },
          );
          chains.push([first, second, third]);
        }
        const all = [...plain, ...grouped, ...chains.flat()];
        for (const id of all) {
          const info = await submitter.tasks.waitFor(id, { timeout: 30 });
          expect(info.state, id).toBe('completed');
          expect(info.progress, id).toBe(3);
        }
        expect(await flusher.stop()).toBeGreaterThan(20);
        // Calls did fall back to EVAL meanwhile: the fault happened, and was met.
        const after = await scriptFallbacks(redis.admin);
        expect(after.noscript - before.noscript).toBeGreaterThan(20);

        for (const [n, id] of plain.entries()) {
          const info = (await submitter.tasks.get(id))!;
          expect(info.result).toBe(n * 2);
          // Each attempt ran once: a retried task twice, the others once.
          expect(attempts.get(id), id).toEqual(n % 5 === 0 ? [1, 2] : [1]);
        }
        for (const id of [...grouped, ...chains.flat()]) expect(attempts.get(id), id).toEqual([1]);
        for (const [first, second, third] of chains) {
          expect(startedAt.get(second!)!).toBeGreaterThan(finishedAt.get(first!)!);
          expect(startedAt.get(third!)!).toBeGreaterThan(finishedAt.get(second!)!);
        }
        const stats = await submitter.tasks.stats();
        expect(stats.queues.find((q) => q.name === 'default')).toMatchObject({
          waiting: 0,
          delayed: 0,
          blocked: 0,
          active: 0,
          dead: 0,
          completed: all.length,
        });
      } finally {
        await flusher.stop();
        for (const enterprise of instances) await enterprise.shutdown();
      }
    }, 90_000);
  },
);
