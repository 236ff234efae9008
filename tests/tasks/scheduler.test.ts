import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise, type TaskOptions } from '../../src/index.js';
import { memoryTaskBackend, type TaskBackend } from '../../src/tasks/index.js';
import { eventually } from '../support/eventually.js';

const instances: Enterprise[] = [];

function make(tasks: TaskOptions = {}): Enterprise {
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
    tasks: { shutdownTimeout: '100ms', ...tasks },
  });
  instances.push(enterprise);
  return enterprise;
}

afterEach(async () => {
  await Promise.all(instances.splice(0).map((e) => e.shutdown()));
});

/** Records every task of `name` run through the instances, with its id. */
function recorder(instancesToWatch: Enterprise[], name: string) {
  const runs: { id: string; payload: unknown; by: number }[] = [];
  instancesToWatch.forEach((e, by) => {
    e.tasks.register(name, (payload, { id }) => {
      runs.push({ id, payload, by });
    });
  });
  return runs;
}

describe('scheduler', () => {
  it('submits a task at every interval slot, with a deterministic id per slot', async () => {
    const e = make();
    const runs = recorder([e], 'tick');
    e.tasks.scheduler.scheduleEvery('100ms', 'ticker', 'tick', { n: 1 });
    await e.start();
    await sleep(450);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.length).toBeLessThanOrEqual(6);
    for (const run of runs) {
      expect(run.id).toMatch(/^schedule:ticker:\d+$/);
      expect(Number(run.id.split(':')[2]) % 100).toBe(0);
      expect(run.payload).toEqual({ n: 1 });
    }
    expect(new Set(runs.map((r) => r.id)).size).toBe(runs.length);
  });

  it('runs each slot exactly once however many processes schedule it', async () => {
    const backend: TaskBackend = memoryTaskBackend();
    const group = [make({ backend }), make({ backend }), make({ backend })];
    const runs = recorder(group, 'shared_tick');
    for (const e of group) e.tasks.scheduler.scheduleEvery('100ms', 'shared', 'shared_tick');
    await Promise.all(group.map((e) => e.start()));
    await sleep(550);
    const ids = runs.map((r) => r.id);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('runs cron schedules (seconds field) in a time zone', async () => {
    const e = make();
    const runs = recorder([e], 'cron_tick');
    const info = e.tasks.scheduler.schedulePeriodic(
      '* * * * * *',
      'every-second',
      'cron_tick',
      null,
      {
        timezone: 'Europe/Paris',
      },
    );
    expect(info).toMatchObject({ name: 'every-second', kind: 'cron', timezone: 'Europe/Paris' });
    expect(info.nextRunAt.getTime() % 1000).toBe(0);
    await e.start();
    await sleep(2_200);
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs.length).toBeLessThanOrEqual(3);
  });

  it('lists schedules with their next run, in the right time zone', () => {
    const e = make();
    e.tasks.scheduler.schedulePeriodic('0 2 * * *', 'nightly', 'optimize_database', undefined, {
      timezone: 'America/New_York',
    });
    e.tasks.scheduler.scheduleEvery(
      '1h',
      'hourly',
      'refresh',
      { full: false },
      { queue: 'maintenance' },
    );
    const list = e.tasks.scheduler.list();
    const nightly = list.find((s) => s.name === 'nightly')!;
    expect(nightly).toMatchObject({ taskName: 'optimize_database', cron: '0 2 * * *' });
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      hour: 'numeric',
      minute: 'numeric',
      hour12: false,
    }).format(nightly.nextRunAt);
    expect(parts).toBe('02:00');
    expect(nightly.nextRunAt.getTime()).toBeGreaterThan(Date.now());
    expect(nightly.nextRunAt.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000 + 3_600_000);
    const hourly = list.find((s) => s.name === 'hourly')!;
    expect(hourly).toMatchObject({ kind: 'every', everyMs: 3_600_000, queue: 'maintenance' });
    expect(hourly.nextRunAt.getTime() % 3_600_000).toBe(0);
  });

  it('unschedules', async () => {
    const e = make();
    const runs = recorder([e], 'gone');
    e.tasks.scheduler.scheduleEvery('50ms', 'gone-soon', 'gone');
    expect(e.tasks.scheduler.unschedule('gone-soon')).toBe(true);
    expect(e.tasks.scheduler.unschedule('gone-soon')).toBe(false);
    await e.start();
    await sleep(200);
    expect(runs).toEqual([]);
    expect(e.tasks.scheduler.list()).toEqual([]);
  });

  it('rejects bad cron expressions, time zones, intervals and payloads with TaskScheduleError', () => {
    const { scheduler } = make().tasks;
    const bad: (() => unknown)[] = [
      () => scheduler.schedulePeriodic('every day', 'a', 't'),
      () => scheduler.schedulePeriodic('61 * * * *', 'a', 't'),
      () => scheduler.schedulePeriodic('', 'a', 't'),
      () => scheduler.schedulePeriodic('0 2 * * *', 'a', 't', undefined, { timezone: 'Mars/Base' }),
      () => scheduler.scheduleEvery('soon' as never, 'a', 't'),
      () => scheduler.scheduleEvery(0, 'a', 't'),
      () => scheduler.scheduleEvery('1m', '', 't'),
      () => scheduler.scheduleEvery('1m', 'a', 't', { f: () => {} }),
    ];
    for (const call of bad)
      expect(call).toThrow(expect.objectContaining({ code: 'E_TASK_SCHEDULE' }));
    expect(scheduler.list()).toEqual([]);
  });

  it('catches up the latest missed slot once, but not for a schedule seen the first time', async () => {
    const backend = memoryTaskBackend();
    // First process: sees the schedule for the first time, so its past slots were never missed.
    const first = make({ backend });
    const firstRuns = recorder([first], 'catch_up');
    first.tasks.scheduler.scheduleEvery('1h', 'hourly-report', 'catch_up');
    await first.start();
    await sleep(100);
    expect(firstRuns).toEqual([]);
    await first.shutdown();
    // Later processes (same store): the latest slot was missed while "everyone was down".
    const a = make({ backend });
    const b = make({ backend });
    const runs = recorder([a, b], 'catch_up');
    a.tasks.scheduler.scheduleEvery('1h', 'hourly-report', 'catch_up');
    b.tasks.scheduler.scheduleEvery('1h', 'hourly-report', 'catch_up');
    await Promise.all([a.start(), b.start()]);
    await sleep(150);
    const slot = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    expect(runs.map((r) => r.id)).toEqual([`schedule:hourly-report:${slot}`]);
    // And with catchUp: false nothing is caught up.
    const c = make({ backend });
    const cRuns = recorder([c], 'catch_up_off');
    c.tasks.scheduler.scheduleEvery('1h', 'hourly-report-2', 'catch_up_off', null, {
      catchUp: false,
    });
    await c.start();
    await c.shutdown();
    const d = make({ backend });
    const dRuns = recorder([d], 'catch_up_off');
    d.tasks.scheduler.scheduleEvery('1h', 'hourly-report-2', 'catch_up_off', null, {
      catchUp: false,
    });
    await d.start();
    await sleep(100);
    expect([...cRuns, ...dRuns]).toEqual([]);
  });

  it('refuses a schedule name whose slot ids would pass the task id limit, at registration', () => {
    const { scheduler } = make().tasks;
    expect(() => scheduler.scheduleEvery('1m', 'n'.repeat(180), 't')).toThrow(
      expect.objectContaining({ code: 'E_TASK_SCHEDULE', message: expect.stringContaining('200') }),
    );
    expect(scheduler.list()).toEqual([]);
    expect(scheduler.scheduleEvery('1m', 'n'.repeat(150), 't').name).toHaveLength(150);
  });

  it('tries a submit again when the store refused it, and runs the slot once', async () => {
    const backend = memoryTaskBackend();
    let refusals = 2;
    const add = (tasks: Parameters<TaskBackend['add']>[0]) => {
      if (refusals > 0) {
        refusals -= 1;
        return Promise.reject(new Error('the store is away'));
      }
      return backend.add(tasks);
    };
    const flaky = new Proxy(backend, {
      get(target, property) {
        if (property === 'add') return add;
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const e = make({ backend: flaky });
    const runs = recorder([e], 'flaky_tick');
    e.tasks.scheduler.scheduleEvery('5s', 'flaky', 'flaky_tick');
    await e.start();
    // The first slot comes within 5 s; its submit fails twice, then goes through.
    await eventually(() => runs.length === 1, 'the slot to run after two refusals', 8_000);
    expect(refusals).toBe(0);
    await sleep(300);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.id).toMatch(/^schedule:flaky:\d+$/);
  }, 15_000);

  for (const catchUp of [true, false]) {
    it(`after an event-loop stall runs ${catchUp ? 'only the latest missed slot' : 'no missed slot'}, never a burst`, async () => {
      const e = make();
      const runs = recorder([e], 'stalled_tick');
      e.tasks.scheduler.scheduleEvery('100ms', `stalled-${catchUp}`, 'stalled_tick', null, {
        catchUp,
      });
      await e.start();
      await sleep(250);
      const stalledAt = Date.now();
      // Blocks the event loop across five slots.
      while (Date.now() < stalledAt + 550) {
        // busy
      }
      const resumedAt = Date.now();
      await sleep(350);
      const slotOf = (id: string) => Number(id.split(':')[2]);
      const missed = runs
        .map((r) => slotOf(r.id))
        .filter((slot) => slot > stalledAt && slot <= resumedAt);
      expect(missed).toHaveLength(catchUp ? 1 : 0);
      if (catchUp) expect(missed[0]).toBe(Math.floor(resumedAt / 100) * 100);
      // The schedule goes on afterwards.
      expect(runs.some((r) => slotOf(r.id) > resumedAt)).toBe(true);
      expect(new Set(runs.map((r) => r.id)).size).toBe(runs.length);
    });
  }

  it('stops its timers on shutdown', async () => {
    const e = make();
    const runs = recorder([e], 'after_stop');
    e.tasks.scheduler.scheduleEvery('50ms', 'stopper', 'after_stop');
    await e.start();
    await e.shutdown();
    const count = runs.length;
    await sleep(200);
    expect(runs.length).toBe(count);
  });
});
