import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { type RedisTaskBackend, redisTaskBackend } from '../../../src/tasks/backends/redis.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import { adminClient, deleteKeys, testPrefix } from '../redis/helpers.js';
import { describeSandboxedTasks } from './suite.js';

describe.runIf(requires(redis))('sandboxed handlers on the Redis backend', () => {
  let admin: Redis;
  const opened: { backend: RedisTaskBackend; prefix: string }[] = [];
  beforeAll(() => {
    admin = adminClient();
  });
  afterAll(async () => {
    await admin.quit();
  });

  describeSandboxedTasks('redis backend', {
    make: () => {
      const prefix = testPrefix('sandbox');
      const backend = redisTaskBackend({ url: REDIS_URL, prefix });
      opened.push({ backend, prefix });
      return backend;
    },
    cleanup: async () => {
      for (const { backend, prefix } of opened.splice(0)) {
        await backend.close();
        await deleteKeys(admin, prefix);
      }
    },
  });
});
