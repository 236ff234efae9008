import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createMonitoringRouter, type MonitoringRouter } from '../../src/monitoring/index.js';
import { redisTaskBackend } from '../../src/tasks/backends/redis.js';
import { AUTH, call, closedPort, json, TOKEN, testEnterprise, until } from './helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function setup() {
  const enterprise = testEnterprise({
    tasks: { backend: 'memory', maxRetries: 0, heartbeatMs: 200 },
  } as Parameters<typeof testEnterprise>[0]);
  const router: MonitoringRouter = createMonitoringRouter({ enterprise, auth: TOKEN });
  cleanup.push(async () => {
    await router.close();
    await enterprise.shutdown();
  });
  // The tasks module's API as the router uses it.
  const tasks = (enterprise as unknown as { tasks: any }).tasks;
  return { enterprise, router, tasks };
}

const post = (router: MonitoringRouter, path: string) =>
  call(router, path, { method: 'POST', headers: AUTH });

describe('task backend on Redis that is down', () => {
  it('reports task-backend down (critical: 503) within a bounded time', async () => {
    const backend = redisTaskBackend({
      url: `redis://127.0.0.1:${await closedPort()}`,
      prefix: `mon-${randomUUID()}`,
      commandTimeoutMs: 3_000,
      onError: () => {},
    });
    cleanup.push(() => backend.close());
    const enterprise = testEnterprise({ tasks: { backend } } as Parameters<
      typeof testEnterprise
    >[0]);
    const router = createMonitoringRouter({
      enterprise,
      auth: TOKEN,
      health: { timeoutMs: 500, cacheMs: 0 },
    });
    cleanup.push(async () => {
      await router.close();
      await enterprise.shutdown();
    });
    // Monitoring observes a tasks module only once the application has built it.
    const before = await json(await call(router, '/health', { headers: AUTH }));
    expect(before.components.map((c: { name: string }) => c.name)).not.toContain('task-backend');
    enterprise.tasks;
    const started = performance.now();
    const response = await call(router, '/health', { headers: AUTH });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(response.status).toBe(503);
    const body = await json(response);
    expect(body.status).toBe('down');
    const component = body.components.find((c: { name: string }) => c.name === 'task-backend');
    expect(component).toMatchObject({ status: 'down', critical: true });
    expect(component.message).toMatch(/within 500 ms/);
  });
});

describe('task endpoints with the backend down', () => {
  it('answer 503 E_UNAVAILABLE without the backend details', async () => {
    const port = await closedPort();
    const backend = redisTaskBackend({
      url: `redis://127.0.0.1:${port}`,
      prefix: `mon-${randomUUID()}`,
      commandTimeoutMs: 300,
      onError: () => {},
    });
    cleanup.push(() => backend.close());
    const enterprise = testEnterprise({ tasks: { backend } } as Parameters<
      typeof testEnterprise
    >[0]);
    const router = createMonitoringRouter({ enterprise, auth: TOKEN });
    cleanup.push(async () => {
      await router.close();
      await enterprise.shutdown();
    });
    enterprise.tasks;
    const response = await call(router, '/tasks/monitoring', { headers: AUTH });
    expect(response.status).toBe(503);
    const body = await json(response);
    expect(body.error.code).toBe('E_UNAVAILABLE');
    expect(JSON.stringify(body)).not.toContain(String(port));
  });
});

describe('with the tasks module (memory backend)', () => {
  it('reports queues, workers, failures and dead letters, and runs the actions', async () => {
    const { enterprise, router, tasks } = setup();
    let attempts = 0;
    tasks.register('flaky_export', async () => {
      attempts++;
      if (attempts === 1) throw new Error('export server refused the upload of 12 rows');
      return 'ok';
    });
    await enterprise.start();
    const id: string = await tasks.submit('flaky_export', { n: 1 });
    await until(async () => (await tasks.get(id))?.state === 'dead', 5_000);

    const body = await json(await call(router, '/tasks/monitoring', { headers: AUTH }));
    expect(body.backend).toBe('memory');
    const queue = body.queues.find((q: { name: string }) => q.name === tasks.defaultQueue);
    expect(queue).toMatchObject({ dead: 1, paused: false, oldestWaitingSeconds: null });
    expect(body.workers.length).toBeGreaterThan(0);
    expect(body.workers[0]).toMatchObject({ healthy: true, queue: tasks.defaultQueue });
    expect(body.failures[0]).toMatchObject({ name: 'flaky_export', count: 1 });
    expect(body.failures[0].error).toContain('Error: export server refused');
    expect(body.deadLetters[0]).toMatchObject({
      id,
      name: 'flaky_export',
      queue: tasks.defaultQueue,
      attempts: 1,
      error: 'export server refused the upload of 12 rows',
    });
    expect(Date.parse(body.deadLetters[0].finishedAt)).not.toBeNaN();

    const health = await json(await call(router, '/health', { headers: AUTH }));
    const names = Object.fromEntries(
      health.components.map((c: { name: string; status: string }) => [c.name, c.status]),
    );
    expect(names).toMatchObject({ 'task-backend': 'ok', 'task-workers': 'ok' });

    // Retry from the dead letter queue: the second attempt succeeds.
    const retried = await post(router, `/tasks/dead/${id}/retry`);
    expect(retried.status).toBe(200);
    expect(await json(retried)).toEqual({ ok: true, id });
    await until(async () => (await tasks.get(id))?.state === 'completed', 5_000);
    const missing = await post(router, '/tasks/dead/no-such-task/retry');
    expect(missing.status).toBe(404);

    const paused = await post(router, `/tasks/queues/${tasks.defaultQueue}/pause`);
    expect(await json(paused)).toMatchObject({ ok: true, paused: true });
    let stats = await tasks.stats();
    expect(stats.queues.find((q: { name: string }) => q.name === tasks.defaultQueue).paused).toBe(
      true,
    );
    await post(router, `/tasks/queues/${tasks.defaultQueue}/resume`);
    stats = await tasks.stats();
    expect(stats.queues.find((q: { name: string }) => q.name === tasks.defaultQueue).paused).toBe(
      false,
    );

    // A task that dies again, then purge.
    tasks.register('always_fails', async () => {
      throw new Error('nope');
    });
    const second: string = await tasks.submit('always_fails', {});
    await until(async () => (await tasks.get(second))?.state === 'dead', 5_000);
    const purged = await post(router, `/tasks/dead/purge?queue=${tasks.defaultQueue}`);
    expect(await json(purged)).toMatchObject({ ok: true, removed: 1 });
    expect(await tasks.deadLetters.list()).toEqual([]);
  });

  it('shows the groups of a queue, deepest first with the rest as "other", and its limits', async () => {
    const { enterprise, router, tasks } = setup();
    await tasks.groups.configureQueue(tasks.defaultQueue, {
      rateLimit: { limit: 100, per: '1s' },
      groups: { maxConcurrency: 2 },
    });
    await tasks.groups.pause(tasks.defaultQueue, 'tenant-0');
    const submissions = [];
    for (let g = 0; g < 14; g++) {
      for (let i = 0; i <= g; i++) {
        submissions.push({
          name: 'noop',
          payload: {},
          options: { group: `tenant-${g}`, allowUnknown: true },
        });
      }
    }
    await tasks.submitMany(submissions);
    void enterprise;
    const body = await json(await call(router, '/tasks/monitoring', { headers: AUTH }));
    const queue = body.queues.find((q: { name: string }) => q.name === tasks.defaultQueue);
    expect(queue.groups).toMatchObject({
      total: 14,
      waiting: 105,
      active: 0,
      rateLimit: { limit: 100, perMs: 1_000 },
      groupRateLimit: null,
      groupMaxConcurrency: 2,
    });
    expect(queue.groups.top).toHaveLength(10);
    expect(queue.groups.top[0]).toMatchObject({
      group: 'tenant-13',
      waiting: 14,
      maxConcurrency: 2,
    });
    // The four shallowest groups (1 + 2 + 3 + 4 tasks) are summed, tenant-0 paused among them.
    expect(queue.groups.other).toEqual({ groups: 4, waiting: 10, active: 0 });
    const metrics = await (await call(router, '/metrics', { headers: AUTH })).text();
    expect(metrics).toMatch(
      /tasks_group_depth\{[^}]*group="tenant-13"[^}]*state="waiting"[^}]*\} 14/,
    );
    expect(metrics).toMatch(/tasks_group_depth\{[^}]*group="other"[^}]*state="waiting"[^}]*\} 10/);
  });

  it('puts the task figures into the real-time snapshot', async () => {
    const { enterprise, router, tasks } = setup();
    tasks.register('noop', async () => undefined);
    await enterprise.start();
    await tasks.waitFor(await tasks.submit('noop', {}), { timeout: '5s' });
    const response = await call(router, '/performance/realtime', { headers: AUTH });
    const reader = response.body!.getReader();
    let text = '';
    // Bounded: a stream that ended without a snapshot fails the assertion below, never spins.
    for (let reads = 0; reads < 50 && !text.includes('event: snapshot'); reads++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain('event: snapshot');
    await reader.cancel();
    const data = JSON.parse(/data: (.*)/.exec(text)![1]!);
    expect(data.tasks).toMatchObject({
      backend: 'memory',
      queues: [expect.objectContaining({ name: tasks.defaultQueue, completed: 1 })],
      deadLetters: [],
    });
    expect(data.tasks.throughput.completedPerSecond).toBeGreaterThan(0);
    expect(router.realtimeStatus().streams).toBe(0);
  });

  it('rejects a bad queue name with 400', async () => {
    const { router } = setup();
    const response = await post(router, `/tasks/queues/${'x'.repeat(300)}/pause`);
    expect(response.status).toBe(400);
    expect((await json(response)).error.code).toBe('E_BAD_REQUEST');
  });
});
