// The cluster view on a Redis Cluster: a heartbeat (one MULTI), the alive list (one MGET) and the
// deployment's history (one hash tag per series name) work when keys spread over several masters.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterView } from '../../../src/analytics/index.js';
import { clusterClients } from '../../support/redis-cluster.js';
import { redisCluster } from '../../support/requirements.js';
import { silent } from '../history/helpers.js';

describe.runIf(redisCluster())('cluster view on a Redis Cluster', () => {
  const clients = clusterClients(2);
  const prefix = `test:cluster:${randomUUID()}`;
  const views: ClusterView[] = [];
  afterAll(async () => {
    await Promise.all(views.map((view) => view.stop()));
    for (const node of clients[0]!.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) await node.del(key);
      } while (cursor !== '0');
    }
  });

  it('lists both instances, merges their live windows and their history', async () => {
    const monitor = (durations: number[]) => ({
      operationWindows: () => {
        const window = {
          count: durations.length,
          errors: 0,
          slow: 0,
          sumMs: durations.reduce((a, b) => a + b, 0),
          minMs: Math.min(...durations),
          maxMs: Math.max(...durations),
          coveredSeconds: 60,
          // Below 256 µs a bucket index is the value in microseconds.
          histogram: { indexes: durations.map((d) => d * 1000), counts: durations.map(() => 1) },
        };
        return [
          {
            name: 'job',
            labels: {},
            windows: { '1m': window, '5m': window, '15m': window, all: window },
          },
        ];
      },
    });
    const a = new ClusterView({
      client: clients[0]!,
      prefix,
      instanceId: 'a',
      operations: monitor([0.01, 0.02]),
      logger: silent,
    });
    const b = new ClusterView({
      client: clients[1]!,
      prefix,
      instanceId: 'b',
      operations: monitor([0.2]),
      logger: silent,
    });
    views.push(a, b);
    await Promise.all([a.heartbeat(), b.heartbeat()]);
    const summary = await a.performance();
    expect(summary.instances.map((i) => i.id)).toEqual(['a', 'b']);
    expect(summary.operations[0]!.windows['1m']).toMatchObject({ count: 3, p50: 0.02, max: 0.2 });
    expect(summary.operations[0]!.windows['1m'].throughput).toBeCloseTo(3 / 60, 6);

    const at = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    for (const [view, count] of [
      [a, 2],
      [b, 5],
    ] as const) {
      await view.writeRollup({
        id: `${view.instanceId}:${at}:0`,
        at,
        operations: [],
        metrics: [{ name: 'queue.depth', labels: {}, samples: count, sum: count, min: 1, max: 1 }],
      });
    }
    const series = await b.queryMetric({
      metric: 'queue.depth',
      from: at,
      to: at + 60_000,
      step: 60,
    });
    expect(series.points[0]!.samples).toBe(7);
    expect(series.byInstance.map((i) => [i.instance, i.points[0]!.samples])).toEqual([
      ['a', 2],
      ['b', 5],
    ]);
  });
});
