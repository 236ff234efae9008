import { afterEach, describe, expect, it } from 'vitest';
import { createMonitoringRouter, type MonitoringRouter } from '../../src/monitoring/index.js';
import { memoryTaskBackend } from '../../src/tasks/index.js';
import { AUTH, call, conforms, json, TOKEN, testEnterprise } from './helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Two instances on one task store, each with its router; `a` registers a schedule in code. */
function setup() {
  const backend = memoryTaskBackend();
  const make = () => {
    const enterprise = testEnterprise({
      tasks: { backend, scheduleSync: '100ms' },
    } as Parameters<typeof testEnterprise>[0]);
    const router: MonitoringRouter = createMonitoringRouter({ enterprise, auth: TOKEN });
    cleanup.push(async () => {
      await router.close();
      await enterprise.shutdown();
    });
    return { enterprise, router };
  };
  return { a: make(), b: make() };
}

const send = (router: MonitoringRouter, method: string, path: string, body?: unknown) =>
  call(router, path, {
    method,
    headers: { ...AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const names = async (router: MonitoringRouter) =>
  (await json(await call(router, '/schedules', { headers: AUTH }))).schedules.map(
    (s: { name: string; paused: boolean }) => `${s.name}${s.paused ? ' (paused)' : ''}`,
  );

describe('/schedules', () => {
  it('lists the schedules of every instance, code and run-time ones, as documented', async () => {
    const { a, b } = setup();
    a.enterprise.tasks.scheduler.schedulePeriodic('0 2 * * *', 'optimize', 'optimize_database');
    await a.enterprise.start();
    await a.enterprise.tasks.scheduler.sync();
    const added = await send(b.router, 'POST', '/schedules', {
      name: 'digest',
      task: 'send_digest',
      every: '1h',
      payload: { list: 'all' },
    });
    expect(added.status).toBe(201);
    const doc = await json(await call(b.router, '/openapi.json', { headers: AUTH }));
    const body = await json(await call(b.router, '/schedules', { headers: AUTH }));
    expect(body.schedules.map((s: { name: string }) => s.name).sort()).toEqual([
      'digest',
      'optimize',
    ]);
    const schema = doc.paths['/schedules'].get.responses['200'].content['application/json'].schema;
    expect(conforms(doc, body, schema)).toEqual([]);
    expect(await names(a.router)).toContain('digest');
  });

  it('pauses, resumes, runs and removes through the router, for every instance', async () => {
    const { a, b } = setup();
    const ran: unknown[] = [];
    a.enterprise.tasks.register('send_digest', (payload) => void ran.push(payload));
    await a.enterprise.start();
    await send(a.router, 'POST', '/schedules', {
      name: 'digest',
      task: 'send_digest',
      cron: '0 6 * * *',
      payload: { list: 'vip' },
    });
    expect((await send(b.router, 'POST', '/schedules/digest/pause')).status).toBe(200);
    expect(await names(a.router)).toEqual(['digest (paused)']);
    const run = await json(await send(b.router, 'POST', '/schedules/digest/run'));
    expect(run).toMatchObject({ ok: true, taskId: expect.any(String) });
    await a.enterprise.tasks.waitFor(run.taskId, { timeout: '5s' });
    expect(ran).toEqual([{ list: 'vip' }]);
    expect((await send(a.router, 'POST', '/schedules/digest/resume')).status).toBe(200);
    expect(await names(b.router)).toEqual(['digest']);
    expect((await send(b.router, 'DELETE', '/schedules/digest')).status).toBe(200);
    expect(await names(a.router)).toEqual([]);
  });

  it('answers 400 naming the problem, 404 for an unknown name, 401 without the token', async () => {
    const { a } = setup();
    a.enterprise.tasks.scheduler.scheduleEvery('1m', 'from_code', 'noop');
    const missingTask = await send(a.router, 'POST', '/schedules', { name: 'x', every: '1m' });
    expect(missingTask.status).toBe(400);
    expect((await json(missingTask)).error).toMatchObject({ field: 'task' });
    const badCron = await send(a.router, 'POST', '/schedules', {
      name: 'x',
      task: 'y',
      cron: 'every day',
    });
    expect(badCron.status).toBe(400);
    expect((await json(badCron)).error.message).toMatch(/does not parse/);
    const taken = await send(a.router, 'POST', '/schedules', {
      name: 'from_code',
      task: 'y',
      every: '1m',
    });
    expect(taken.status).toBe(400);
    for (const verb of ['pause', 'resume', 'run']) {
      expect((await send(a.router, 'POST', `/schedules/nope/${verb}`)).status).toBe(404);
    }
    expect((await send(a.router, 'DELETE', '/schedules/nope')).status).toBe(404);
    expect((await call(a.router, '/schedules')).status).toBe(401);
  });
});
