// The cluster view on one real Redis: three processes of different latencies publish their
// heartbeats; the deployment's p99 is the p99 of all their samples (within the histogram's 1 %),
// and a process killed with SIGKILL leaves the list of instances alive once its heartbeat expires.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMonitoringRouter } from '../../../src/monitoring/index.js';
import { eventually } from '../../../src/testing/index.js';
import { AUTH, call, conforms, json, testEnterprise } from '../../monitoring/helpers.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';

interface Child {
  process: ChildProcess;
  id: string;
  samples: number[];
}

/** Starts one instance and waits for its line (its id and samples). */
function startChild(prefix: string, lowMs: number, highMs: number, count: number, seed: number) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'tests/analytics/cluster/cluster-child.ts',
      prefix,
      String(lowMs),
      String(highMs),
      String(count),
      String(seed),
    ],
    { env: { ...process.env, TEST_REDIS_URL: REDIS_URL }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise<Child>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      const { id, samples } = JSON.parse(line) as { id: string; samples: number[] };
      resolve({ process: child, id, samples });
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before its line`)));
  });
}

/** The nearest-rank percentile of whole microseconds, in milliseconds. */
function exactPercentile(samples: readonly number[], percentile: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1)]! / 1000;
}

describe.runIf(requires(redis))('cluster view across processes', () => {
  const prefix = `test:cluster:${randomUUID()}`;
  const children: Child[] = [];
  let admin: Redis;

  beforeAll(async () => {
    admin = new Redis(REDIS_URL);
    // Very different latencies: averaging each process's p99 would be far off the cluster's.
    children.push(
      ...(await Promise.all([
        startChild(prefix, 1, 5, 3_000, 11),
        startChild(prefix, 20, 60, 1_500, 22),
        startChild(prefix, 200, 900, 300, 33),
      ])),
    );
  }, 60_000);

  afterAll(async () => {
    for (const child of children) child.process.kill('SIGKILL');
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await admin.quit();
  });

  it('answers the deployment p99 of all samples, per instance, and the instances alive', async () => {
    const enterprise = testEnterprise({
      redisUrl: REDIS_URL,
      alerts: false,
      analytics: {
        history: false,
        cluster: { prefix, heartbeatIntervalMs: 200, heartbeatTtlMs: 1_500 },
      },
    });
    await enterprise.start();
    const router = createMonitoringRouter({ enterprise, auth: 's3cret-token' });
    try {
      const response = await call(router, '/performance/summary?scope=cluster', { headers: AUTH });
      expect(response.status).toBe(200);
      const summary = await json(response);
      const doc = await json(await call(router, '/openapi.json', { headers: AUTH }));
      const schema =
        doc.paths['/performance/summary'].get.responses['200'].content['application/json'].schema;
      expect(conforms(doc, summary, schema)).toEqual([]);

      const ids = summary.instances.map((i: { id: string }) => i.id);
      expect(ids[0]).toBe(enterprise.cluster.instanceId);
      expect(new Set(ids)).toEqual(
        new Set([enterprise.cluster.instanceId, ...children.map((c) => c.id)]),
      );
      for (const instance of summary.instances) {
        expect(instance).toMatchObject({ pid: expect.any(Number), host: expect.any(String) });
      }

      const work = summary.operations.find((op: { name: string }) => op.name === 'work');
      const all = children.flatMap((c) => c.samples);
      expect(work.windows.all.count).toBe(all.length);
      expect(work.windows['1m'].count).toBe(all.length);
      for (const percentile of [50, 95, 99, 99.9] as const) {
        const key = percentile === 99.9 ? 'p999' : `p${percentile}`;
        const exact = exactPercentile(all, percentile);
        // The upper end of the bucket holding the rank: at or above the exact value, within 1 %.
        expect(work.windows.all[key]).toBeGreaterThanOrEqual(exact);
        expect(work.windows.all[key]).toBeLessThanOrEqual(exact * 1.01 + 0.001);
      }
      const averaged =
        children.reduce((sum, c) => sum + exactPercentile(c.samples, 99), 0) / children.length;
      expect(Math.abs(averaged - work.windows.all.p99) / work.windows.all.p99).toBeGreaterThan(
        0.05,
      );
      expect(Math.abs(work.windows.all.max - Math.max(...all) / 1000)).toBeLessThan(0.01);

      // Each instance's own statistics are its samples'.
      for (const child of children) {
        const own = work.instances.find((i: { instance: string }) => i.instance === child.id);
        expect(own.windows.all.count).toBe(child.samples.length);
        const exact = exactPercentile(child.samples, 99);
        expect(own.windows.all.p99).toBeGreaterThanOrEqual(exact);
        expect(own.windows.all.p99).toBeLessThanOrEqual(exact * 1.01 + 0.001);
      }

      // Killed without a word: gone from the list once its heartbeat expires (1.5 s here).
      const victim = children[2]!;
      victim.process.kill('SIGKILL');
      const killedAt = Date.now();
      await eventually(
        async () => {
          const { instances } = await enterprise.cluster.performance();
          return !instances.some((i) => i.id === victim.id);
        },
        'the killed instance to leave the list',
        10_000,
      );
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(500);
      const after = await json(
        await call(router, '/performance/summary?scope=cluster', { headers: AUTH }),
      );
      expect(after.instances.map((i: { id: string }) => i.id).sort()).toEqual(
        [enterprise.cluster.instanceId, children[0]!.id, children[1]!.id].sort(),
      );
      const left = after.operations.find((op: { name: string }) => op.name === 'work');
      expect(left.windows.all.count).toBe(
        children[0]!.samples.length + children[1]!.samples.length,
      );
    } finally {
      await router.close();
      await enterprise.shutdown();
    }
  }, 60_000);
});
