import { Cluster } from 'ioredis';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe } from 'vitest';
import { redisTaskBackend } from '../../../src/tasks/backends/redis.js';
import { describeTaskBackend } from '../../../src/testing/index.js';
import { REDIS_URL, redis, redisCluster, requires } from '../../support/requirements.js';
import { adminClient, clusterNodes, deleteKeys, testPrefix } from './helpers.js';

describe.runIf(requires(redis))('redis task backend', () => {
  const admin = adminClient();
  afterAll(() => admin.quit());

  describeTaskBackend('redis', vitest, async (options = {}) => {
    const prefix = testPrefix('conf');
    const backend = redisTaskBackend({ url: REDIS_URL, prefix, retention: options.retention });
    // Another process on the same Redis: its own connections, same prefix.
    const second = redisTaskBackend({ url: REDIS_URL, prefix, retention: options.retention });
    return {
      backend,
      second,
      queue: 'q',
      cleanup: async () => {
        await Promise.all([backend.close(), second.close()]);
        await deleteKeys(admin, prefix);
      },
    };
  });
});

describe.runIf(redisCluster())('redis task backend on a Cluster', () => {
  let cluster: Cluster;
  beforeAll(() => {
    cluster = new Cluster(clusterNodes!);
  });
  afterAll(() => cluster.quit());

  describeTaskBackend('redis cluster', vitest, async (options = {}) => {
    const prefix = testPrefix('conf-cluster');
    // Given clients: the backend duplicates them for its blocking and subscriber connections.
    const backend = redisTaskBackend({ client: cluster, prefix, retention: options.retention });
    const other = new Cluster(clusterNodes!);
    const second = redisTaskBackend({ client: other, prefix, retention: options.retention });
    return {
      backend,
      second,
      queue: 'q',
      cleanup: async () => {
        await Promise.all([backend.close(), second.close()]);
        await other.quit();
        await deleteKeys(cluster, prefix);
      },
    };
  });
});
