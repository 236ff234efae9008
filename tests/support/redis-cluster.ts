import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/** The Cluster nodes of TEST_REDIS_CLUSTER_NODES (set by redis-cluster-setup.ts), when set. */
export const clusterNodes = process.env.TEST_REDIS_CLUSTER_NODES?.split(',').map((node) => {
  const [host, port] = node.split(':');
  return { host: host!, port: Number(port) };
});

/**
 * `count` Cluster clients of the describe block it is called in, as separate processes of a
 * deployment would have: opened and ready before its tests, quit after them. The array is filled
 * in `beforeAll`, so read it inside tests and harnesses.
 *
 * @example
 * ```ts
 * const clusters = clusterClients(2);
 * it('...', () => new Store({ client: clusters[0]! }));
 * ```
 */
export function clusterClients(count: number): Cluster[] {
  const clusters: Cluster[] = [];
  beforeAll(async () => {
    for (let i = 0; i < count; i++) clusters.push(new Cluster(clusterNodes!));
    await Promise.all(clusters.map((c) => new Promise((ok) => c.once('ready', ok))));
  });
  afterAll(async () => {
    await Promise.all(clusters.splice(0).map((c) => c.quit()));
  });
  return clusters;
}
