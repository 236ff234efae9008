import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createEnterprise, type Enterprise, type TaskOptions } from '../../src/index.js';
import { TaskScheduleError } from '../../src/tasks/errors.js';
import { memoryTaskBackend, redisTaskBackend, type TaskBackend } from '../../src/tasks/index.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import { adminClient, deleteKeys, testPrefix } from './redis/helpers.js';

const instances: Enterprise[] = [];

/** Retries `check` (assertions included) for up to 5 s. */
const waitFor = <T>(check: () => T | Promise<T>) =>
  vi.waitFor(check, { timeout: 5_000, interval: 20 });

function make(tasks: TaskOptions = {}): Enterprise {
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
    tasks: { shutdownTimeout: '100ms', scheduleSync: '100ms', ...tasks },
  });
  instances.push(enterprise);
  return enterprise;
}

afterEach(async () => {
  await Promise.all(instances.splice(0).map((e) => e.shutdown()));
});

/** Counts the runs of task `name` in each instance. */
function counter(group: Enterprise[], name: string) {
  const runs: string[] = [];
  for (const e of group) e.tasks.register(name, (_payload, { id }) => void runs.push(id));
  return runs;
}

/** The suite, on any backend two instances can share; `backend()` gives each a fresh handle. */
function adminSuite(backend: () => TaskBackend) {
  it('adds a schedule at run time that every instance runs, each slot once', async () => {
    const shared = backend();
    const [a, b] = [make({ backend: shared }), make({ backend: backend() })];
    const runs = counter([a, b], 'tick');
    await Promise.all([a.start(), b.start()]);
    const info = await a.tasks.scheduler.add({ name: 'ticker', task: 'tick', every: '100ms' });
    expect(info).toMatchObject({ name: 'ticker', origin: 'admin', paused: false, everyMs: 100 });
    await waitFor(() => expect(b.tasks.scheduler.list().map((s) => s.name)).toContain('ticker'));
    await waitFor(() => expect(runs.length).toBeGreaterThanOrEqual(4));
    expect(new Set(runs).size).toBe(runs.length);
  });

  it('pauses and resumes everywhere; a paused schedule submits nothing', async () => {
    const [a, b] = [make({ backend: backend() }), make({ backend: backend() })];
    const runs = counter([a, b], 'beat');
    for (const e of [a, b]) e.tasks.scheduler.scheduleEvery('100ms', 'heartbeat', 'beat');
    await Promise.all([a.start(), b.start()]);
    await waitFor(() => expect(runs.length).toBeGreaterThanOrEqual(2));
    expect(await b.tasks.scheduler.pause('heartbeat')).toBe(true);
    await waitFor(() => expect(a.tasks.scheduler.list()[0]!.paused).toBe(true));
    await sleep(250); // a slot submitted just before the pause may still run
    const frozen = runs.length;
    await sleep(500);
    expect(runs.length).toBe(frozen);
    expect(await a.tasks.scheduler.resume('heartbeat')).toBe(true);
    await waitFor(() => expect(runs.length).toBeGreaterThanOrEqual(frozen + 2));
    await waitFor(() => expect(b.tasks.scheduler.list()[0]!.paused).toBe(false));
  });

  it('keeps a code schedule paused or removed across restarts, until resumed', async () => {
    const store = backend();
    const first = make({ backend: store });
    first.tasks.register('nightly', () => undefined);
    first.tasks.scheduler.schedulePeriodic('0 2 * * *', 'nightly_cleanup', 'nightly');
    await first.start();
    await waitFor(async () => {
      const stored = await store.schedules();
      expect(stored.find((r) => r.name === 'nightly_cleanup')).toMatchObject({ origin: 'code' });
    });
    await first.tasks.scheduler.remove('nightly_cleanup');
    expect(first.tasks.scheduler.list()).toEqual([]);
    await first.shutdown();

    // The next release registers it again, with another cron: removed still, cron updated.
    const second = make({ backend: backend() });
    second.tasks.register('nightly', () => undefined);
    second.tasks.scheduler.schedulePeriodic('30 3 * * *', 'nightly_cleanup', 'nightly');
    await second.start();
    await waitFor(async () => {
      const [info] = second.tasks.scheduler.list({ includeRemoved: true });
      expect(info).toMatchObject({ removed: true, cron: '30 3 * * *' });
      const stored = await store.schedules();
      expect(stored.find((r) => r.name === 'nightly_cleanup')).toMatchObject({
        cron: '30 3 * * *',
        state: 'removed',
      });
    });
    expect(second.tasks.scheduler.list()).toEqual([]);
    expect(await second.tasks.scheduler.resume('nightly_cleanup')).toBe(true);
    expect(second.tasks.scheduler.list()).toMatchObject([{ name: 'nightly_cleanup' }]);
  });

  it('removes a schedule added at run time from every instance', async () => {
    const [a, b] = [make({ backend: backend() }), make({ backend: backend() })];
    await Promise.all([a.start(), b.start()]);
    await a.tasks.scheduler.add({ name: 'weekly', task: 'report', cron: '0 7 * * 1' });
    await waitFor(() => expect(b.tasks.scheduler.list()).toHaveLength(1));
    expect(await b.tasks.scheduler.remove('weekly')).toBe(true);
    await waitFor(() => expect(a.tasks.scheduler.list()).toEqual([]));
    expect(await a.tasks.scheduler.remove('weekly')).toBe(false);
    await sleep(300); // several syncs: nothing brings it back
    expect(a.tasks.scheduler.list()).toEqual([]);
    expect(b.tasks.scheduler.list()).toEqual([]);
  });

  it('runs a schedule now, paused or not, outside its slots', async () => {
    const e = make({ backend: backend() });
    const runs = counter([e], 'report');
    await e.start();
    await e.tasks.scheduler.add({
      name: 'monthly',
      task: 'report',
      cron: '0 0 1 * *',
      payload: { month: true },
    });
    await e.tasks.scheduler.pause('monthly');
    const id = await e.tasks.scheduler.runNow('monthly');
    await waitFor(() => expect(runs).toEqual([id]));
  });
}

describe('schedules managed at run time', () => {
  describe('memory backend', () => {
    let shared: TaskBackend | undefined;
    afterEach(() => {
      shared = undefined;
    });
    adminSuite(() => {
      shared ??= memoryTaskBackend();
      return shared;
    });
  });

  describe.runIf(requires(redis))('redis backend, one prefix, a client per instance', () => {
    const prefixes: string[] = [];
    let prefix = testPrefix('schedules');
    const backends: TaskBackend[] = [];
    afterEach(async () => {
      await Promise.all(backends.splice(0).map((b) => b.close()));
      prefixes.push(prefix);
      prefix = testPrefix('schedules');
    });
    afterAll(async () => {
      const client = adminClient();
      for (const p of prefixes) await deleteKeys(client, p);
      await client.quit();
    });
    adminSuite(() => {
      const backend = redisTaskBackend({ url: REDIS_URL, prefix });
      backends.push(backend);
      return backend;
    });
  });

  it('refuses bad definitions with a typed error naming the problem', async () => {
    const e = make({ backend: memoryTaskBackend() });
    const scheduler = e.tasks.scheduler;
    await expect(scheduler.add({ name: 'x', task: 'y' })).rejects.toThrow(TaskScheduleError);
    await expect(
      scheduler.add({ name: 'x', task: 'y', cron: '* * *', every: '1s' }),
    ).rejects.toThrow(/exactly one of cron and every/);
    await expect(scheduler.add({ name: 'x', task: 'y', cron: 'not cron' })).rejects.toThrow(
      /does not parse/,
    );
    await expect(scheduler.add({ name: '', task: 'y', every: '1s' })).rejects.toThrow(
      /scheduleName/,
    );
    scheduler.scheduleEvery('1m', 'from_code', 'y');
    await expect(scheduler.add({ name: 'from_code', task: 'y', every: '1s' })).rejects.toThrow(
      /registered in code/,
    );
    await expect(scheduler.runNow('missing')).rejects.toThrow(TaskScheduleError);
    expect(await scheduler.pause('missing')).toBe(false);
  });

  it('rejects a scheduleSync below 100 ms with a ConfigError naming the option', () => {
    expect(() => make({ scheduleSync: '10ms' }).tasks).toThrow(/tasks\.scheduleSync/);
  });
});
