import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEnterprise } from '../../../src/index.js';
import { type RedisTaskBackend, redisTaskBackend } from '../../../src/tasks/backends/redis.js';
import type { NewTask } from '../../../src/tasks/types.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';
import { adminClient, deleteKeys, newTask, testPrefix } from './helpers.js';

/**
 * A reply lost after Redis ran the command: the proxy drops the answer and resets the connection,
 * ioredis reconnects and sends the command again (and the backend retries once). Every call must
 * answer what its first run did, never what a second run would.
 */
describe.runIf(requires(redis))('redis task backend: replies lost after the command ran', () => {
  let admin: Redis;
  let proxy: TcpProxy;
  let prefix: string;
  let backend: RedisTaskBackend;
  const queue = 'lost';

  beforeAll(async () => {
    admin = adminClient();
    proxy = await startTcpProxy(Number(new URL(REDIS_URL).port || 6379));
  });
  afterAll(async () => {
    await proxy.close();
    await admin.quit();
  });
  const make = () => {
    prefix = testPrefix('lost');
    backend = redisTaskBackend({
      url: `redis://127.0.0.1:${proxy.port}/0`,
      prefix,
      commandTimeoutMs: 2_000,
    });
    return backend;
  };
  afterEach(async () => {
    await backend.close();
    await deleteKeys(admin, prefix);
  });

  const task = (overrides: Partial<NewTask> = {}): NewTask =>
    newTask(queue, { id: `t-${randomUUID()}`, ...overrides });

  it('add: answers created for the task its first run stored', async () => {
    make();
    await backend.counts(queue);
    const t = task();
    const lost = proxy.loseReplyTo(t.id);
    expect(await backend.add([t])).toEqual([{ id: t.id, created: true, state: 'waiting' }]);
    await lost;
    expect(proxy.lost).toBeGreaterThan(0);
  });

  it('cancel: answers true for the task its first run cancelled', async () => {
    make();
    const t = task();
    await backend.add([t]);
    const lost = proxy.loseReplyTo(t.id);
    expect(await backend.cancel(queue, t.id)).toBe(true);
    await lost;
    expect((await backend.get(queue, t.id))?.state).toBe('cancelled');
  });

  it('finish: accepts the outcome its first run recorded', async () => {
    make();
    const t = task();
    await backend.add([t]);
    const [claimed] = await backend.claim(queue, 'w', 1, 30_000);
    const lost = proxy.loseReplyTo(`"result-${t.id}"`);
    const [result] = await backend.finish(queue, [
      {
        kind: 'completed',
        id: t.id,
        token: claimed!.token,
        result: `"result-${t.id}"`,
        finishedAt: Date.now(),
      },
    ]);
    await lost;
    expect(result).toMatchObject({ id: t.id, accepted: true });
    expect(await backend.get(queue, t.id)).toMatchObject({ state: 'completed', attempts: 1 });
  });

  it('claim: hands out the task its first run claimed, and leaves the next one waiting', async () => {
    make();
    const first = task();
    const second = task();
    await backend.add([first, second]);
    const lost = proxy.loseReplyTo(`${prefix}:{${queue}}:active`);
    const claimed = await backend.claim(queue, 'w', 1, 30_000);
    await lost;
    expect(claimed.map((c) => c.task.id)).toEqual([first.id]);
    expect(await backend.counts(queue)).toMatchObject({ active: 1, waiting: 1 });
    expect((await backend.get(queue, second.id))?.state).toBe('waiting');
  });

  it('grouped claim and finish: the group counts its held task once, and frees it once', async () => {
    make();
    await backend.configureGroup(queue, 'g', { maxConcurrency: 1 });
    const first = task({ group: 'g' });
    const second = task({ group: 'g' });
    await backend.add([first, second]);
    const lostClaim = proxy.loseReplyTo(`${prefix}:{${queue}}:active`);
    const claimed = await backend.claim(queue, 'w', 5, 30_000);
    await lostClaim;
    expect(claimed.map((c) => c.task.id)).toEqual([first.id]);
    expect((await backend.groups(queue, 5)).groups[0]).toMatchObject({ active: 1, waiting: 1 });
    const lostFinish = proxy.loseReplyTo(`"result-${first.id}"`);
    const [result] = await backend.finish(queue, [
      {
        kind: 'completed',
        id: first.id,
        token: claimed[0]!.token,
        result: `"result-${first.id}"`,
        finishedAt: Date.now(),
      },
    ]);
    await lostFinish;
    expect(result).toMatchObject({ accepted: true });
    expect((await backend.groups(queue, 5)).groups[0]).toMatchObject({ active: 0, waiting: 1 });
    expect((await backend.claim(queue, 'w', 5, 30_000)).map((c) => c.task.id)).toEqual([second.id]);
  });

  it('retryDead: answers true for the task its first run sent back', async () => {
    make();
    const t = task({ maxRetries: 0 });
    await backend.add([t]);
    const [claimed] = await backend.claim(queue, 'w', 1, 30_000);
    await backend.finish(queue, [
      {
        kind: 'dead',
        id: t.id,
        token: claimed!.token,
        error: { name: 'Error', message: 'no' },
        finishedAt: Date.now(),
      },
    ]);
    const lost = proxy.loseReplyTo(t.id);
    expect(await backend.retryDead(queue, t.id)).toBe(true);
    await lost;
    expect((await backend.get(queue, t.id))?.state).toBe('waiting');
  });

  it('schedule marker: the caller whose claim ran owns it, and nobody else', async () => {
    make();
    const name = `slot-${randomUUID().slice(0, 8)}`;
    const lost = proxy.loseReplyTo(name);
    expect(await backend.claimScheduleSlot(name, 1_000, 60_000)).toBe(true);
    await lost;
    const other = redisTaskBackend({ url: REDIS_URL, prefix });
    try {
      expect(await other.claimScheduleSlot(name, 1_000, 60_000)).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('through the engine: a completion whose reply was lost still fires its event, once', async () => {
    make();
    const enterprise = createEnterprise({
      logLevel: 'silent',
      performance: { systemMetrics: false },
      tasks: { backend, queueName: queue, workerCount: 1, leaseMs: 10_000 },
    });
    const completed: string[] = [];
    enterprise.tasks.on('completed', (event) => completed.push(event.id));
    const marker = `done-${randomUUID()}`;
    enterprise.tasks.register('job', () => marker);
    try {
      await enterprise.start();
      const lost = proxy.loseReplyTo(marker);
      const id = await enterprise.tasks.submit('job');
      await lost;
      expect((await enterprise.tasks.waitFor(id, { timeout: '10s' })).result).toBe(marker);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(completed).toEqual([id]);
    } finally {
      await enterprise.shutdown();
    }
  });
});
