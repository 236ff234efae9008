import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { hashTag } from '../../src/redis/keys.js';
import { redisTaskBackend } from '../../src/tasks/backends/redis.js';
import { silent } from '../monitoring/helpers.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import { adminClient, deleteKeys, keysOf, testPrefix } from '../tasks/redis/helpers.js';

const DAY = 86_400_000;

describe.runIf(requires(redis))('cleanup_completed_tasks on the Redis task backend', () => {
  let admin: Redis;
  const prefixes: string[] = [];
  const instances: Enterprise[] = [];
  beforeAll(() => {
    admin = adminClient();
  });
  afterEach(async () => {
    for (const enterprise of instances.splice(0)) await enterprise.shutdown();
    for (const prefix of prefixes.splice(0)) await deleteKeys(admin, prefix);
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('removes only the orphans, stale keys, drift and unused queues it finds, while a worker runs', {
    timeout: 60_000,
  }, async () => {
    const prefix = testPrefix('maint');
    prefixes.push(prefix);
    const backend = redisTaskBackend({ url: REDIS_URL, prefix });
    const enterprise = createEnterprise({
      logger: silent,
      env: {},
      alerts: false,
      tasks: { backend, queueName: 'main', workerCount: 2 },
      maintenance: { cleanup_completed_tasks: { batchSize: 10, schedule: false } },
    });
    instances.push(enterprise);
    const ran: string[] = [];
    enterprise.tasks.register('work', async (payload: { n: number }) => {
      await sleep(2);
      ran.push(String(payload.n));
      return payload.n;
    });
    await enterprise.start();

    const Q = `${prefix}:${hashTag('main')}:`;
    const R = `${prefix}:${hashTag('retired')}:`;
    const now = Date.now();
    // Legitimate state that must survive: a blocked task (its pending and dependents sets), an id
    // kept taken with an expiry, finished tasks within retention.
    const first = await enterprise.tasks.submit('work', { n: -1 }, { delay: '1h' });
    const blocked = await enterprise.tasks.submit('work', { n: -2 }, { dependsOn: [first] });
    await enterprise.tasks.submit('work', { n: -3 }, { id: 'kept-unique', uniqueFor: '1h' });

    // Orphans and drift, as crashes, old builds and lowered retention leave them.
    await admin.set(`${Q}p:orphan-payload`, '{"n":1}');
    await admin.sadd(`${Q}pending:ghost`, 'nobody');
    await admin.sadd(`${Q}dependents:gone`, 'nobody');
    await admin.hset(`${Q}t:leaked`, { n: 'work', s: 'completed', fa: now });
    await admin.set(`${Q}p:leaked`, '{}');
    await admin.set(`${Q}u:no-expiry`, '1');
    await admin.set(`${Q}req:no-expiry`, '*');
    await admin.set(`${prefix}:schedule:${hashTag('old')}:0`, 'x');
    await admin.set(`${prefix}:schedule:${hashTag('live')}:0`, 'x', 'PX', DAY);
    // Scored ahead of every real completion: a finish trims the index to the newest 1,000 from the
    // oldest end, which a slow dry run under load let it do to an entry scored now.
    await admin.zadd(`${Q}completed`, now + DAY, 'dangling');
    // Dead tasks past their retention: nothing dies here, so no finish trims them.
    for (let i = 0; i < 3; i++) {
      await admin.hset(`${Q}t:expired-${i}`, { n: 'work', s: 'dead', fa: now - 8 * DAY });
      await admin.zadd(`${Q}dead`, now - 8 * DAY, `expired-${i}`);
    }
    // A queue nothing uses any more: finished tasks a month old, no worker.
    await admin.sadd(`${prefix}:queues`, 'retired');
    for (let i = 0; i < 25; i++) {
      await admin.hset(`${R}t:old-${i}`, { n: 'work', s: 'completed', fa: now - 30 * DAY });
      await admin.set(`${R}p:old-${i}`, '{}');
      await admin.zadd(`${R}completed`, now - 30 * DAY, `old-${i}`);
    }
    await admin.set(`${R}seq`, '25');

    // Load while the cleanup runs: tasks keep being submitted and run. At most 400 of them, well
    // under the 1,000 completed tasks retention keeps: on a slow machine the run lasts long enough
    // for more, and retention would then drop the oldest before they are checked below.
    let submitting = true;
    const submitted: string[] = [];
    const load = (async () => {
      for (let n = 0; submitting && n < 400; n++) {
        submitted.push(await enterprise.tasks.submit('work', { n }));
        await sleep(1);
      }
    })();
    const commands: string[] = [];
    const send = backend.client.sendCommand.bind(backend.client);
    backend.client.sendCommand = ((command: { name: string }) => {
      commands.push(command.name);
      return send(command as never);
    }) as typeof backend.client.sendCommand;
    await sleep(50);
    const dry = await enterprise.maintenance.run('cleanup_completed_tasks', { dryRun: true });
    const result = await enterprise.maintenance.run('cleanup_completed_tasks');
    submitting = false;
    await load;

    expect(dry.ok, dry.error?.message).toBe(true);
    expect(result.ok, result.error?.message).toBe(true);
    const found = {
      orphanPayloads: 1,
      orphanPendingSets: 1,
      orphanDependentSets: 1,
      unindexedRecords: 1,
      uniqueKeysWithoutExpiry: 1,
      memosWithoutExpiry: 1,
      staleScheduleMarkers: 1,
      danglingIndexEntries: 1,
      trimmedPastRetention: 3,
      unusedQueues: 1,
    };
    expect(dry.done).toMatchObject(found);
    expect(result.done).toMatchObject({ ...found, unusedQueueRecords: 25 });
    expect(result.details?.unusedQueues).toEqual(['retired']);
    expect(result.examined.keys).toBeGreaterThan(30);
    expect(commands).toContain('scan');
    expect(commands).not.toContain('keys');

    // What was planted is gone...
    for (const key of [
      `${Q}p:orphan-payload`,
      `${Q}pending:ghost`,
      `${Q}dependents:gone`,
      `${Q}t:leaked`,
      `${Q}p:leaked`,
      `${Q}u:no-expiry`,
      `${Q}req:no-expiry`,
      `${prefix}:schedule:${hashTag('old')}:0`,
      `${Q}t:expired-0`,
    ]) {
      expect(await admin.exists(key), key).toBe(0);
    }
    expect(await admin.zscore(`${Q}completed`, 'dangling')).toBeNull();
    expect(await keysOf(admin, R)).toEqual([]);
    expect(await admin.sismember(`${prefix}:queues`, 'retired')).toBe(0);
    // ...and nothing else: the blocked task, its sets, the unique id, the live marker.
    expect(await admin.exists(`${Q}pending:${blocked}`)).toBe(1);
    expect(await admin.exists(`${Q}dependents:${first}`)).toBe(1);
    expect(await admin.hget(`${Q}t:${blocked}`, 's')).toBe('blocked');
    expect(await admin.exists(`${Q}u:kept-unique`)).toBe(1);
    expect(await admin.exists(`${prefix}:schedule:${hashTag('live')}:0`)).toBe(1);
    expect(await admin.sismember(`${prefix}:queues`, 'main')).toBe(1);
    // Every task submitted during the run completes: none was lost to the cleanup.
    for (const id of submitted) {
      const done = await enterprise.tasks.waitFor(id, { timeout: '10s' });
      expect(done.state).toBe('completed');
    }
    expect(submitted.length).toBeGreaterThan(5);

    // A second pass finds nothing more.
    const again = await enterprise.maintenance.run('cleanup_completed_tasks');
    expect(Object.values(again.done).every((n) => n === 0)).toBe(true);
  });
});
