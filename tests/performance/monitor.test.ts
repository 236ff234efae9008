import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  createEnterprise,
  InvalidArgumentError,
  type OverflowEvent,
  type SlowEvent,
  type SpanEvent,
  withContext,
} from '../../src/index.js';
import {
  callFor,
  capturingLogger,
  EPOCH,
  failsAfter,
  fakeClock,
  numbersIn,
  setup,
  takes,
} from './helpers.js';

const MINUTE = 60_000;

/** A promise settled by hand, so a test controls when an async call ends. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function spans(monitor: ReturnType<typeof setup>['monitor']): SpanEvent[] {
  const events: SpanEvent[] = [];
  monitor.on('span', (event) => events.push(event));
  return events;
}

function slows(monitor: ReturnType<typeof setup>['monitor']): SlowEvent[] {
  const events: SlowEvent[] = [];
  monitor.on('slow', (event) => events.push(event));
  return events;
}

describe('performance.context', () => {
  it('returns the value of a sync function synchronously', () => {
    const { monitor, clock } = setup();
    const result = monitor.context('sync', takes(clock, 3, { id: 1 }));
    expect(result).toEqual({ id: 1 });
    expect(monitor.context('sync', { table: 'users' }, () => 42)).toBe(42);
    expect(monitor.context('sync', () => undefined)).toBeUndefined();
    const stats = monitor.getStats('sync')!.windows.all;
    expect(stats.count).toBe(3);
    expect(stats.max).toBe(3);
  });

  it('returns a promise settling as the function does, and times it until it settles', async () => {
    const { monitor, clock } = setup();
    const pending = deferred<string>();
    const returned = monitor.context('async', { step: 'load' }, () => pending.promise);
    expect(returned).toBeInstanceOf(Promise);
    expect(monitor.getStats('async')?.windows.all.count ?? 0).toBe(0);
    clock.advance(120);
    pending.resolve('done');
    await expect(returned).resolves.toBe('done');
    const stats = monitor.getStats('async')!.windows.all;
    expect(stats).toMatchObject({ count: 1, errors: 0, min: 120, max: 120 });
  });

  it('times an async function across awaits', async () => {
    const { monitor, clock } = setup();
    const result = await monitor.context('steps', async () => {
      clock.advance(10);
      await sleep(1);
      clock.advance(15);
      await Promise.resolve();
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(monitor.getStats('steps')!.windows.all.max).toBe(25);
  });

  it('monitor.wrap keeps this, arguments, return value, name and length', async () => {
    const { monitor, clock } = setup();
    const target = {
      factor: 3,
      multiply: monitor.wrap('multiply', function multiply(this: { factor: number }, a: number) {
        clock.advance(2);
        return this.factor * a;
      }),
      load: monitor.wrap('load', async function load(this: { factor: number }, a: number, b = 0) {
        return this.factor + a + b;
      }),
    };
    expect(target.multiply(5)).toBe(15);
    expect(target.multiply.name).toBe('multiply');
    expect(target.multiply.length).toBe(1);
    await expect(target.load(1, 2)).resolves.toBe(6);
    expect(target.load.name).toBe('load');
    expect(monitor.getStats('multiply')!.windows.all).toMatchObject({ count: 1, max: 2 });
    expect(monitor.getStats('load')!.windows.all.count).toBe(1);
  });
});

describe('nesting and request context', () => {
  it('a nested context records its parents, innermost first, across awaits', async () => {
    const { monitor } = setup();
    const events = spans(monitor);
    await monitor.context('http.request', async () => {
      await sleep(1);
      await monitor.context('UserService.login', async () => {
        await Promise.resolve();
        await sleep(1);
        monitor.context('db.query', () => 'row');
      });
      // Once the inner context has ended, new spans are children of the outer one again.
      monitor.context('audit', () => undefined);
    });
    const parents = Object.fromEntries(events.map((e) => [e.name, e.parents]));
    expect(parents).toEqual({
      'db.query': ['UserService.login', 'http.request'],
      'UserService.login': ['http.request'],
      audit: ['http.request'],
      'http.request': [],
    });
  });

  it('concurrent siblings do not become each other’s parents', async () => {
    const { monitor } = setup();
    const events = spans(monitor);
    await monitor.context('batch', () =>
      Promise.all(
        ['a', 'b', 'c'].map((name, i) =>
          monitor.context(name, async () => {
            await sleep(3 - i);
            monitor.context(`${name}.child`, () => undefined);
          }),
        ),
      ),
    );
    for (const name of ['a', 'b', 'c']) {
      expect(events.find((e) => e.name === name)?.parents).toEqual(['batch']);
      expect(events.find((e) => e.name === `${name}.child`)?.parents).toEqual([name, 'batch']);
    }
  });

  it('a span opened in a timer callback inside a context has that context as parent', async () => {
    const { monitor } = setup();
    const events = spans(monitor);
    await monitor.context('job', () => {
      return new Promise<void>((resolve) => {
        setTimeout(() => {
          monitor.context('job.step', () => undefined);
          resolve();
        }, 1);
      });
    });
    expect(events.find((e) => e.name === 'job.step')?.parents).toEqual(['job']);
  });

  it('the correlation id of withContext flows into span and slow events of nested calls', async () => {
    const { monitor, clock } = setup({ performance: { alertThresholdMs: 10 } });
    const spanEvents = spans(monitor);
    const slowEvents = slows(monitor);
    await withContext({ correlationId: 'req-42' }, async () => {
      await monitor.context('handler', async () => {
        await sleep(1);
        monitor.context('db.query', takes(clock, 25));
      });
    });
    monitor.context('outside', takes(clock, 25));
    expect(spanEvents.map((e) => [e.name, e.correlationId])).toEqual([
      ['db.query', 'req-42'],
      ['handler', 'req-42'],
      ['outside', undefined],
    ]);
    expect(slowEvents.map((e) => [e.name, e.correlationId])).toEqual([
      ['db.query', 'req-42'],
      ['handler', 'req-42'],
      ['outside', undefined],
    ]);
  });

  it('span events carry name, labels, attributes, duration and error', () => {
    const { monitor, clock } = setup();
    const events = spans(monitor);
    const fetchUser = monitor.wrap('fetch_user', takes(clock, 7), { labels: { tier: 'free' } });
    fetchUser();
    expect(() =>
      monitor.context('parse', { format: 'json' }, failsAfter(clock, 2, new Error('bad'))),
    ).toThrow('bad');
    expect(events).toEqual([
      {
        name: 'fetch_user',
        labels: { tier: 'free' },
        attributes: {},
        durationMs: 7,
        error: false,
        correlationId: undefined,
        parents: [],
      },
      {
        name: 'parse',
        labels: {},
        attributes: { format: 'json' },
        durationMs: 2,
        error: true,
        correlationId: undefined,
        parents: [],
      },
    ]);
  });
});

describe('errors', () => {
  const thrown: [string, unknown][] = [
    ['an Error', new TypeError('wrong type')],
    ['a string', 'plain string'],
    ['undefined', undefined],
    ['null', null],
    ['a plain object', { code: 42 }],
  ];

  it.each(thrown)('a sync throw of %s is counted and rethrown unchanged', (_, value) => {
    const { monitor, clock } = setup();
    let caught: unknown = 'nothing caught';
    try {
      monitor.context('op', failsAfter(clock, 4, value));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(value);
    expect(monitor.getStats('op')!.windows.all).toMatchObject({ count: 1, errors: 1, max: 4 });
  });

  it.each(thrown)(
    'a rejection with %s is counted and passed through unchanged',
    async (_, value) => {
      const { monitor, clock } = setup();
      const wrapped = monitor.wrap('op', async () => {
        clock.advance(6);
        throw value;
      });
      let caught: unknown = 'nothing caught';
      try {
        await wrapped();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBe(value);
      expect(monitor.getStats('op')!.windows.all).toMatchObject({ count: 1, errors: 1, max: 6 });
    },
  );

  it('the promise returned rejects with the very reason the function rejected with', async () => {
    const { monitor } = setup();
    const reason = new Error('rejected');
    const rejected = Promise.reject(reason);
    const returned = monitor.context('op', () => rejected);
    await expect(returned).rejects.toBe(reason);
    expect(monitor.getStats('op')!.windows.all.errors).toBe(1);
  });

  it('a rejection nobody awaits is still reported as unhandled', async () => {
    const { monitor } = setup();
    const reported: unknown[] = [];
    const listener = (reason: unknown) => reported.push(reason);
    const existing = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', listener);
    try {
      const reason = new Error('nobody awaits me');
      const fail = monitor.wrap('fire_and_forget', async () => {
        throw reason;
      });
      void fail();
      await sleep(20);
      expect(reported).toEqual([reason]);
      expect(monitor.getStats('fire_and_forget')!.windows.all.errors).toBe(1);
    } finally {
      process.off('unhandledRejection', listener);
      for (const l of existing) process.on('unhandledRejection', l);
    }
  });

  it('returns a promise subclass as it is, so its own methods stay available', async () => {
    const { monitor } = setup();
    class Cancellable<T> extends Promise<T> {
      cancel(): string {
        return 'cancelled';
      }
    }
    const original = new Cancellable<number>((resolve) => resolve(1));
    const returned = monitor.context('op', () => original);
    expect(returned).toBe(original);
    expect(returned.cancel()).toBe('cancelled');
    await returned;
    await sleep(1);
    expect(monitor.getStats('op')!.windows.all.count).toBe(1);
  });

  it('successes and failures of one operation are counted together', async () => {
    const { monitor, clock } = setup();
    const flaky = monitor.wrap('flaky', async (fail: boolean) => {
      clock.advance(1);
      if (fail) throw new Error('flaky');
      return 'ok';
    });
    const results = await Promise.allSettled([flaky(false), flaky(true), flaky(false)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(monitor.getStats('flaky')!.windows.all).toMatchObject({
      count: 3,
      errors: 1,
      errorRate: 1 / 3,
    });
  });

  it('a non-promise thenable whose then throws is returned untouched; the caller gets the error', async () => {
    const { monitor } = setup();
    const boom = new Error('then exploded');
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: the point of the test is a broken thenable
      then() {
        throw boom;
      },
    };
    let returned: unknown;
    expect(() => {
      returned = monitor.context('op', () => thenable);
    }).not.toThrow();
    expect(returned).toBe(thenable);
    await expect(Promise.resolve(returned)).rejects.toBe(boom);
    // Only native promises are timed to settlement; the call itself returned normally.
    expect(monitor.getStats('op')!.windows.all).toMatchObject({ count: 1, errors: 0 });
  });

  it('a lazy thenable (such as a query builder) runs once when the caller awaits the result', async () => {
    const { monitor } = setup();
    let executions = 0;
    // Like a knex or mongoose query: each call of `then` runs the query.
    const query = {
      // biome-ignore lint/suspicious/noThenProperty: a query-builder-like thenable
      then(onFulfilled: (rows: string[]) => unknown, onRejected?: (error: unknown) => unknown) {
        executions++;
        return Promise.resolve(['row']).then(onFulfilled, onRejected);
      },
    };
    const rows = await monitor.context('db.query', () => query);
    expect(rows).toEqual(['row']);
    expect(monitor.getStats('db.query')!.windows.all).toMatchObject({ count: 1, errors: 0 });
    expect(executions).toBe(1);
  });
});

describe('slow calls', () => {
  it('emits `slow` with every field when a call exceeds PERFORMANCE_ALERT_THRESHOLD_MS', async () => {
    const { monitor, clock } = setup({ env: { PERFORMANCE_ALERT_THRESHOLD_MS: '50' } });
    expect(monitor.thresholdMs).toBe(50);
    const events = slows(monitor);
    clock.advance(1_000);
    await withContext({ correlationId: 'req-7' }, () =>
      monitor.context('http.request', async () => {
        monitor.context('db.query', { table: 'users' }, takes(clock, 80));
        // Exactly at the threshold is not slow; one microsecond above is.
        monitor.context('at.threshold', takes(clock, 50));
        expect(() =>
          monitor.context('fails.slowly', failsAfter(clock, 50.001, new Error('late'))),
        ).toThrow('late');
      }),
    );
    expect(events).toHaveLength(3);
    expect(events[0]).toEqual({
      name: 'db.query',
      labels: {},
      durationMs: 80,
      thresholdMs: 50,
      attributes: { table: 'users' },
      correlationId: 'req-7',
      parent: 'http.request',
      error: false,
      timestamp: new Date(EPOCH + 1_080).toISOString(),
    });
    expect(events[1]).toMatchObject({ name: 'fails.slowly', error: true, parent: 'http.request' });
    expect(events[1]!.durationMs).toBeCloseTo(50.001, 9);
    // The enclosing request took 180 ms in all: slow too, with no parent of its own.
    expect(events[2]).toMatchObject({
      name: 'http.request',
      durationMs: expect.closeTo(180.001, 6),
      parent: undefined,
      correlationId: 'req-7',
      timestamp: new Date(EPOCH + 1_180.001).toISOString(),
    });
    expect(monitor.getStats('db.query')!.windows.all.slow).toBe(1);
    expect(monitor.getStats('at.threshold')!.windows.all.slow).toBe(0);
  });

  it('a per-operation thresholdMs (monitor.wrap) overrides the global one', () => {
    const { monitor, clock } = setup({ env: { PERFORMANCE_ALERT_THRESHOLD_MS: '50' } });
    const events = slows(monitor);
    const strict = monitor.wrap('strict', takes(clock, 6), {
      thresholdMs: 5,
      labels: { route: '/a' },
      attributes: { team: 'core' },
    });
    const lenient = monitor.wrap('lenient', takes(clock, 400), { thresholdMs: 500 });
    strict();
    lenient();
    monitor.context('global', takes(clock, 51));
    expect(events.map((e) => [e.name, e.thresholdMs, e.durationMs])).toEqual([
      ['strict', 5, 6],
      ['global', 50, 51],
    ]);
    expect(events[0]).toMatchObject({ labels: { route: '/a' }, attributes: { team: 'core' } });
    expect(monitor.getStats('strict')!.thresholdMs).toBe(5);
    expect(monitor.getStats('lenient')!.thresholdMs).toBe(500);
    expect(monitor.getStats('global')!.thresholdMs).toBe(50);
    expect(monitor.getStats('lenient')!.windows.all.slow).toBe(0);
  });

  it('thresholdMs: Infinity disables slow events for that operation', () => {
    const { monitor, clock } = setup({ performance: { alertThresholdMs: 1 } });
    const events = slows(monitor);
    const batch = monitor.wrap('nightly.batch', takes(clock, 30 * MINUTE), {
      thresholdMs: Number.POSITIVE_INFINITY,
    });
    batch();
    expect(events).toEqual([]);
    expect(monitor.getStats('nightly.batch')!.windows.all).toMatchObject({ count: 1, slow: 0 });
  });

  it('a listener that throws does not break the call nor any statistics, and is logged', async () => {
    const logger = capturingLogger();
    const { monitor, clock } = setup({ logger, performance: { alertThresholdMs: 10 } });
    monitor.on('slow', () => {
      throw new Error('listener bug');
    });
    monitor.on('span', () => {
      throw new Error('span listener bug');
    });
    callFor(monitor, clock, 'other', 1);
    expect(monitor.context('slow.sync', takes(clock, 20, 'value'))).toBe('value');
    await expect(
      monitor.context('slow.async', async () => {
        clock.advance(20);
        return 'async value';
      }),
    ).resolves.toBe('async value');
    expect(() => monitor.context('slow.fail', failsAfter(clock, 20, new Error('own')))).toThrow(
      'own',
    );
    callFor(monitor, clock, 'other', 1);
    expect(monitor.getStats('slow.sync')!.windows.all).toMatchObject({ count: 1, slow: 1 });
    expect(monitor.getStats('slow.async')!.windows.all).toMatchObject({ count: 1, slow: 1 });
    expect(monitor.getStats('slow.fail')!.windows.all).toMatchObject({ count: 1, errors: 1 });
    expect(monitor.getStats('other')!.windows.all).toMatchObject({ count: 2, errors: 0 });
    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors[0]!.fields).toMatchObject({ module: 'performance' });
  });

  it('the slow warning log is rate limited per operation, while events are not', () => {
    const logger = capturingLogger();
    const { monitor, clock } = setup({ logger, performance: { alertThresholdMs: 10 } });
    const events = slows(monitor);
    const warnings = () =>
      logger.lines.filter((l) => l.level === 'warn' && l.message === 'slow operation');
    for (let i = 0; i < 5; i++) callFor(monitor, clock, 'a', 20);
    callFor(monitor, clock, 'b', 30);
    expect(events).toHaveLength(6);
    expect(warnings().map((l) => l.fields.operation)).toEqual(['a', 'b']);
    expect(warnings()[0]!.fields).toMatchObject({
      module: 'performance',
      operation: 'a',
      durationMs: 20,
      thresholdMs: 10,
    });
    clock.advance(9_000);
    callFor(monitor, clock, 'a', 20);
    expect(warnings()).toHaveLength(2);
    clock.advance(1_000);
    callFor(monitor, clock, 'a', 20);
    expect(warnings().map((l) => l.fields.operation)).toEqual(['a', 'b', 'a']);
  });

  it('the slow log carries the correlation id of the request', async () => {
    const logger = capturingLogger();
    const { monitor, clock } = setup({ logger, performance: { alertThresholdMs: 10 } });
    await withContext({ correlationId: 'trace-me' }, async () => {
      callFor(monitor, clock, 'op', 20);
    });
    const warning = logger.lines.find((l) => l.message === 'slow operation');
    expect(warning?.fields.correlationId).toBe('trace-me');
  });
});

describe('labels', () => {
  it('each label set is its own series; getStats(name) merges them, getStats(name, labels) picks one', () => {
    const { monitor, clock } = setup();
    const get = monitor.wrap('http', takes(clock, 10), { labels: { method: 'GET', status: 200 } });
    const post = monitor.wrap('http', takes(clock, 30), {
      labels: { status: 201, method: 'POST' },
    });
    get();
    get();
    post();
    const merged = monitor.getStats('http')!;
    expect(merged.labels).toEqual({});
    expect(merged.windows.all).toMatchObject({ count: 3, min: 10, max: 30, totalMs: 50 });
    // Values are compared as strings and the order of the keys does not matter.
    const onlyGet = monitor.getStats('http', { status: '200', method: 'GET' })!;
    expect(onlyGet.labels).toEqual({ method: 'GET', status: '200' });
    expect(onlyGet.windows.all).toMatchObject({ count: 2, max: 10 });
    expect(monitor.getStats('http', { method: 'POST', status: 201 })!.windows.all.count).toBe(1);
    expect(monitor.getStats('http', { method: 'PUT', status: 200 })).toBeUndefined();
    expect(monitor.getStats('http', {})).toBeUndefined();
    expect(
      monitor
        .operations()
        .map((o) => [o.name, o.labels, o.windows.all.count])
        .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    ).toEqual([
      ['http', { method: 'GET', status: '200' }, 2],
      ['http', { method: 'POST', status: '201' }, 1],
    ]);
  });

  it('operations without labels and with labels of the same name are merged by getStats(name)', () => {
    const { monitor, clock } = setup();
    callFor(monitor, clock, 'job', 5);
    monitor.wrap('job', takes(clock, 7), { labels: { queue: 'emails' } })();
    expect(monitor.getStats('job')!.windows.all.count).toBe(2);
    expect(monitor.getStats('job', {})!.windows.all).toMatchObject({ count: 1, max: 5 });
    expect(monitor.getStats('job', { queue: 'emails' })!.windows.all.max).toBe(7);
  });

  it('getStats of an operation never called is undefined', () => {
    const { monitor } = setup();
    expect(monitor.getStats('never')).toBeUndefined();
  });
});

describe('overflow (PERFORMANCE_MAX_METRICS)', () => {
  it('counts calls to operations beyond the cap under _overflow, once warned, others untouched', () => {
    const logger = capturingLogger();
    const { monitor, clock } = setup({ logger, performance: { maxMetrics: 3 } });
    const overflows: OverflowEvent[] = [];
    monitor.on('overflow', (event) => overflows.push(event));
    callFor(monitor, clock, 'a', 1);
    callFor(monitor, clock, 'b', 2);
    monitor.wrap('c', takes(clock, 3), { labels: { k: 'v' } })();
    // What calls recorded (time passing changes only coverage and throughput).
    const recorded = () =>
      ['a', 'b', 'c'].map((name) => {
        const { coveredSeconds, throughput, ...all } = monitor.getStats(name)!.windows.all;
        return { labels: monitor.getStats(name)!.labels, ...all };
      });
    const before = recorded();

    callFor(monitor, clock, 'd', 10);
    callFor(monitor, clock, 'd', 10);
    monitor.wrap('e', takes(clock, 10), { labels: { k: 'w' } })();
    monitor.wrap('c', takes(clock, 10), { labels: { k: 'other' } })();

    expect(overflows).toEqual([{ name: 'd', labels: {}, maxMetrics: 3 }]);
    expect(monitor.summary().overflow).toEqual({ calls: 4, maxMetrics: 3 });
    expect(monitor.getStats('_overflow')!.windows.all).toMatchObject({ count: 4, totalMs: 40 });
    expect(monitor.getStats('d')).toBeUndefined();
    expect(monitor.getStats('e')).toBeUndefined();
    expect(recorded()).toEqual(before);
    expect(monitor.toPrometheus()).toContain('operation="_overflow"');
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('PERFORMANCE_MAX_METRICS');
  });

  it('honours PERFORMANCE_MAX_METRICS from the environment', () => {
    const { monitor, clock } = setup({ env: { PERFORMANCE_MAX_METRICS: '2' } });
    for (const name of ['a', 'b', 'c', 'd']) callFor(monitor, clock, name, 1);
    expect(monitor.summary().overflow).toEqual({ calls: 2, maxMetrics: 2 });
  });

  it('no overflow below the cap', () => {
    const { monitor, clock } = setup({ performance: { maxMetrics: 3 } });
    for (const name of ['a', 'b', 'c', 'a', 'b', 'c']) callFor(monitor, clock, name, 1);
    expect(monitor.summary().overflow).toEqual({ calls: 0, maxMetrics: 3 });
    expect(monitor.getStats('_overflow')).toBeUndefined();
  });
});

describe('reset', () => {
  it('forgets every operation, and wrapped functions keep recording afterwards', async () => {
    const { monitor, clock } = setup();
    const sync = monitor.wrap('sync', takes(clock, 1));
    const labelled = monitor.wrap('labelled', takes(clock, 2), { labels: { shard: 1 } });
    const asyncFn = monitor.wrap('async', async () => clock.advance(3));
    sync();
    labelled();
    await asyncFn();
    monitor.reset();
    expect(monitor.operations()).toEqual([]);
    expect(monitor.getStats('sync')).toBeUndefined();
    expect(monitor.summary().overflow.calls).toBe(0);
    expect(monitor.bottlenecks({ window: 'all' }).byTotalTime).toEqual([]);
    sync();
    sync();
    labelled();
    await asyncFn();
    expect(monitor.getStats('sync')!.windows.all.count).toBe(2);
    expect(monitor.getStats('labelled', { shard: '1' })!.windows.all.count).toBe(1);
    expect(monitor.getStats('async')!.windows.all.count).toBe(1);
  });

  it('after reset the cap applies afresh: an overflowed call site gets its own series', () => {
    const { monitor, clock } = setup({ performance: { maxMetrics: 1 } });
    const overflows: OverflowEvent[] = [];
    monitor.on('overflow', (event) => overflows.push(event));
    const first = monitor.wrap('first', takes(clock, 1));
    const second = monitor.wrap('second', takes(clock, 1));
    first();
    second();
    expect(monitor.getStats('second')).toBeUndefined();
    monitor.reset();
    second();
    expect(monitor.getStats('second')!.windows.all.count).toBe(1);
    first();
    expect(monitor.getStats('first')).toBeUndefined();
    expect(overflows.map((e) => e.name)).toEqual(['second', 'first']);
  });
});

describe('bottlenecks', () => {
  function busy() {
    const s = setup();
    const { monitor, clock } = s;
    for (let i = 0; i < 10; i++) callFor(monitor, clock, 'db', 50); // 500 ms
    for (let i = 0; i < 100; i++) callFor(monitor, clock, 'render', 2); // 200 ms
    callFor(monitor, clock, 'auth', 300); // 300 ms
    return s;
  }

  it('ranks by share of total time (shares sum to 1) and by p95 latency', () => {
    const { monitor } = busy();
    const report = monitor.bottlenecks();
    expect(report.window).toBe('5m');
    expect(report.byTotalTime.map((b) => [b.name, b.totalMs, b.count])).toEqual([
      ['db', 500, 10],
      ['auth', 300, 1],
      ['render', 200, 100],
    ]);
    expect(report.byTotalTime.map((b) => b.share)).toEqual([0.5, 0.3, 0.2]);
    expect(report.byTotalTime.reduce((sum, b) => sum + b.share, 0)).toBeCloseTo(1, 12);
    expect(report.byLatency.map((b) => [b.name, b.p95])).toEqual([
      ['auth', 300],
      ['db', 50],
      ['render', 2],
    ]);
    expect(report.byTotalTime[0]).toEqual({
      name: 'db',
      labels: {},
      share: 0.5,
      totalMs: 500,
      count: 10,
      mean: 50,
      p95: 50,
    });
  });

  it('limit caps each ranking', () => {
    const { monitor } = busy();
    const report = monitor.bottlenecks({ limit: 1 });
    expect(report.byTotalTime.map((b) => b.name)).toEqual(['db']);
    expect(report.byLatency.map((b) => b.name)).toEqual(['auth']);
    // Shares stay relative to all operations, not only the ones listed.
    expect(report.byTotalTime[0]!.share).toBe(0.5);
  });

  it('ranks over the window asked for', () => {
    const { monitor, clock } = busy();
    clock.advance(2 * MINUTE);
    callFor(monitor, clock, 'render', 40);
    const recent = monitor.bottlenecks({ window: '1m' });
    expect(recent.window).toBe('1m');
    expect(recent.byTotalTime.map((b) => [b.name, b.share])).toEqual([['render', 1]]);
    expect(monitor.bottlenecks({ window: '5m' }).byTotalTime.map((b) => b.name)).toEqual([
      'db',
      'auth',
      'render',
    ]);
    clock.advance(20 * MINUTE);
    expect(monitor.bottlenecks({ window: '15m' }).byTotalTime).toEqual([]);
    expect(monitor.bottlenecks({ window: 'all' }).byTotalTime).toHaveLength(3);
  });

  it('label sets are ranked separately', () => {
    const { monitor, clock } = setup();
    monitor.wrap('http', takes(clock, 100), { labels: { route: '/slow' } })();
    monitor.wrap('http', takes(clock, 1), { labels: { route: '/fast' } })();
    expect(monitor.bottlenecks().byTotalTime.map((b) => b.labels)).toEqual([
      { route: '/slow' },
      { route: '/fast' },
    ]);
  });

  it('an idle monitor reports empty rankings', () => {
    const { monitor } = setup();
    expect(monitor.bottlenecks()).toEqual({ window: '5m', byTotalTime: [], byLatency: [] });
  });

  it.each(['2m', '', 'ALL', 5])('an invalid window (%j) throws InvalidArgumentError', (window) => {
    const { monitor } = busy();
    const attempt = () => monitor.bottlenecks({ window: window as never });
    expect(attempt).toThrow(InvalidArgumentError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });

  it('an invalid limit throws InvalidArgumentError instead of silently dropping entries', () => {
    const { monitor } = busy();
    // Today limit -1 returns every entry but the last, and NaN returns none.
    for (const limit of [-1, Number.NaN, 1.5, '3']) {
      expect(() => monitor.bottlenecks({ limit: limit as never }), String(limit)).toThrow(
        InvalidArgumentError,
      );
    }
  });
});

describe('summary', () => {
  function expectJsonSafe(summary: unknown) {
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
    const bad = numbersIn(summary).filter((n) => !Number.isFinite(n.value));
    expect(bad, 'NaN or Infinity in the summary').toEqual([]);
  }

  it('is one JSON-serializable object with operations, overflow, bottlenecks and system', async () => {
    const { monitor, clock } = setup({ performance: { alertThresholdMs: 40, maxMetrics: 4 } });
    clock.advance(500);
    callFor(monitor, clock, 'a', 10);
    callFor(monitor, clock, 'a', 50);
    expect(() => monitor.context('b', failsAfter(clock, 3, new Error('x')))).toThrow();
    await monitor.wrap('c', async () => clock.advance(1), { labels: { region: 'eu' } })();
    callFor(monitor, clock, 'old', 1);
    clock.advance(2 * MINUTE); // leaves empty 1m windows, whose figures are null
    callFor(monitor, clock, 'overflowing', 1);
    callFor(monitor, clock, 'overflowing-too', 1);
    const summary = monitor.summary();
    expectJsonSafe(summary);
    expect(Object.keys(summary).sort()).toEqual([
      'bottlenecks',
      'generatedAt',
      'operations',
      'overflow',
      'system',
      'thresholdMs',
      'uptimeSeconds',
    ]);
    expect(summary.generatedAt).toBe(new Date(EPOCH + clock.t).toISOString());
    expect(summary.uptimeSeconds).toBeCloseTo((clock.t - 0) / 1000, 9);
    expect(summary.thresholdMs).toBe(40);
    expect(summary.system).toBeNull();
    expect(summary.overflow).toEqual({ calls: 2, maxMetrics: 4 });
    expect(summary.operations.map((o) => o.name)).toEqual(['a', 'b', 'c', 'old', '_overflow']);
    expect(summary.operations[0]!.windows.all).toMatchObject({ count: 2, slow: 1, max: 50 });
    expect(summary.operations[0]!.windows['1m'].p50).toBeNull();
    expect(summary.operations[1]!.windows.all.errors).toBe(1);
    expect(summary.operations[2]!.labels).toEqual({ region: 'eu' });
    expect(summary.bottlenecks.window).toBe('5m');
    expect(summary.bottlenecks.byTotalTime[0]!.name).toBe('a');
  });

  it('an empty monitor has an empty, JSON-safe summary', () => {
    const { monitor } = setup();
    const summary = monitor.summary();
    expectJsonSafe(summary);
    expect(summary.operations).toEqual([]);
    expect(summary.overflow.calls).toBe(0);
  });

  it('stays JSON-safe when an operation disables slow events with thresholdMs: Infinity', () => {
    const { monitor, clock } = setup();
    monitor.wrap('batch', takes(clock, 5), { thresholdMs: Number.POSITIVE_INFINITY })();
    expectJsonSafe(monitor.summary());
  });
});

describe('invalid arguments', () => {
  const fn = () => 'ran';
  const cases: [string, (m: ReturnType<typeof setup>['monitor']) => unknown][] = [
    ['context with an empty name', (m) => m.context('', fn)],
    ['context with a blank name', (m) => m.context('   ', fn)],
    ['context with a numeric name', (m) => m.context(42 as never, fn)],
    ['context with an undefined name', (m) => m.context(undefined as never, fn)],
    ['context with a 201-character name', (m) => m.context('x'.repeat(201), fn)],
    ['context without a function', (m) => m.context('op', undefined as never)],
    ['context with a string instead of a function', (m) => m.context('op', 'fn' as never)],
    ['context with attributes but no function', (m) => m.context('op', { a: 1 }, 42 as never)],
    ['context with an object attribute', (m) => m.context('op', { a: {} as never }, fn)],
    ['context with a NaN attribute', (m) => m.context('op', { a: Number.NaN }, fn)],
    ['context with an Infinity attribute', (m) => m.context('op', { a: Infinity }, fn)],
    ['context with a null attribute', (m) => m.context('op', { a: null as never }, fn)],
    ['context with an array of attributes', (m) => m.context('op', [1] as never, fn)],
    ['context with a string as attributes', (m) => m.context('op', 'a' as never, fn)],
    ['wrap with an empty name', (m) => m.wrap('', fn)],
    ['wrap with a non-string name', (m) => m.wrap({} as never, fn)],
    ['wrap of a non-function', (m) => m.wrap('op', null as never)],
    ['wrap of a string', (m) => m.wrap('op', 'fn' as never)],
    ['wrap with thresholdMs 0', (m) => m.wrap('op', fn, { thresholdMs: 0 })],
    ['wrap with a negative thresholdMs', (m) => m.wrap('op', fn, { thresholdMs: -5 })],
    ['wrap with a NaN thresholdMs', (m) => m.wrap('op', fn, { thresholdMs: Number.NaN })],
    ['wrap with a string thresholdMs', (m) => m.wrap('op', fn, { thresholdMs: '10' as never })],
    [
      'wrap with a label name starting with a digit',
      (m) => m.wrap('op', fn, { labels: { '1a': 'x' } }),
    ],
    ['wrap with a label name with a dash', (m) => m.wrap('op', fn, { labels: { 'a-b': 'x' } })],
    ['wrap with a label name starting with __', (m) => m.wrap('op', fn, { labels: { __x: 'x' } })],
    ['wrap with the reserved label le', (m) => m.wrap('op', fn, { labels: { le: '1' } })],
    [
      'wrap with the reserved label operation',
      (m) => m.wrap('op', fn, { labels: { operation: 'x' } }),
    ],
    [
      'wrap with the reserved label quantile',
      (m) => m.wrap('op', fn, { labels: { quantile: 'x' } }),
    ],
    ['wrap with an object label value', (m) => m.wrap('op', fn, { labels: { a: {} as never } })],
    ['wrap with a null label value', (m) => m.wrap('op', fn, { labels: { a: null as never } })],
    ['wrap with a NaN label value', (m) => m.wrap('op', fn, { labels: { a: Number.NaN } })],
    ['wrap with labels that are not an object', (m) => m.wrap('op', fn, { labels: 'a' as never })],
    ['wrap with an object attribute', (m) => m.wrap('op', fn, { attributes: { a: [] as never } })],
    ['getStats with an empty name', (m) => m.getStats('')],
    ['getStats with invalid labels', (m) => m.getStats('good', { le: '1' })],
    ['bottlenecks with an unknown window', (m) => m.bottlenecks({ window: '1h' as never })],
  ];

  it.each(cases)(
    '%s throws InvalidArgumentError and leaves every statistic alone',
    (_, attempt) => {
      const { monitor, clock } = setup();
      let ran = 0;
      const good = monitor.wrap('good', () => {
        ran++;
        clock.advance(4);
      });
      good();
      good();
      const statsBefore = monitor.getStats('good');
      const operationsBefore = monitor.operations();
      const prometheusBefore = monitor.toPrometheus();
      const events = spans(monitor);

      let caught: unknown;
      try {
        attempt(monitor);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect((caught as InvalidArgumentError).code).toBe('E_INVALID_ARGUMENT');
      expect((caught as InvalidArgumentError).message).not.toBe('');

      expect(events).toEqual([]);
      expect(monitor.operations()).toEqual(operationsBefore);
      expect(monitor.getStats('good')).toEqual(statsBefore);
      expect(monitor.toPrometheus()).toBe(prometheusBefore);
      // The monitor still works for everyone else.
      good();
      expect(ran).toBe(3);
      expect(monitor.getStats('good')!.windows.all.count).toBe(3);
      expect(monitor.operations()).toHaveLength(1);
    },
  );

  it('the function is not run when its arguments are rejected', () => {
    const { monitor } = setup();
    let ran = false;
    expect(() =>
      monitor.context('op', { bad: Number.NaN }, () => {
        ran = true;
      }),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      monitor.context('', () => {
        ran = true;
      }),
    ).toThrow(InvalidArgumentError);
    expect(ran).toBe(false);
  });

  it('the error names the argument, the value and what was expected', () => {
    const { monitor } = setup();
    let caught: InvalidArgumentError | undefined;
    try {
      monitor.wrap('op', () => 1, { thresholdMs: -5 });
    } catch (error) {
      caught = error as InvalidArgumentError;
    }
    expect(caught?.message).toContain('thresholdMs');
    expect(caught?.message).toContain('-5');
    expect(caught?.context).toMatchObject({ value: -5 });
  });
});

describe('monitor.record (a call timed elsewhere)', () => {
  it('counts like a monitored call, with its labels, error flag and threshold', () => {
    const { monitor } = setup({ performance: { alertThresholdMs: 100 } });
    const labels = { route: '/users/:id', method: 'GET', status_class: '2xx' };
    monitor.record('http.request', 42.5, { labels });
    monitor.record('http.request', 0, { labels });
    monitor.record('http.request', 150, {
      labels: { ...labels, status_class: '5xx' },
      error: true,
    });
    expect(monitor.getStats('http.request', labels)!.windows.all).toMatchObject({
      count: 2,
      errors: 0,
      min: 0,
      max: 42.5,
    });
    expect(monitor.getStats('http.request')!.windows.all).toMatchObject({
      count: 3,
      errors: 1,
      slow: 1,
    });
    monitor.record('strict', 6, { thresholdMs: 5 });
    expect(monitor.getStats('strict')!.windows.all.slow).toBe(1);
  });

  it('records exactly the duration given, however long the recording itself takes', () => {
    // A clock that moves 3 ms each time it is read stands for a GC pause or a stalled loop between
    // the start of the recording and its end: neither may be added to the caller's duration.
    const clock = fakeClock();
    const enterprise = createEnterprise({
      logLevel: 'silent',
      env: {},
      clock: { ...clock, now: () => (clock.t += 3) },
      performance: { systemMetrics: false, alertThresholdMs: 20 },
    });
    const monitor = enterprise.performance;
    const durations: number[] = [];
    monitor.on('span', (span) => durations.push(span.durationMs));
    monitor.record('measured', 898.782);
    monitor.record('measured', 4.5);
    expect(monitor.getStats('measured')!.windows.all).toMatchObject({
      count: 2,
      min: 4.5,
      max: 898.782,
      slow: 1,
    });
    expect(durations).toEqual([898.782, 4.5]);
  });

  it('raises slow and span events with the parent span and correlation id of the context', async () => {
    const { monitor } = setup({ performance: { alertThresholdMs: 10 } });
    const slowEvents = slows(monitor);
    const spanEvents = spans(monitor);
    await withContext({ correlationId: 'req-9' }, () =>
      monitor.context('handler', () => {
        monitor.record('db.query', 25, {
          attributes: { table: 'users' },
          labels: { pool: 'main' },
        });
      }),
    );
    expect(slowEvents[0]).toMatchObject({
      name: 'db.query',
      durationMs: 25,
      thresholdMs: 10,
      labels: { pool: 'main' },
      attributes: { table: 'users' },
      parent: 'handler',
      correlationId: 'req-9',
      error: false,
    });
    expect(spanEvents[0]).toMatchObject({ name: 'db.query', parents: ['handler'] });
  });

  it.each([
    ['a negative duration', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a string', '5'],
    ['undefined', undefined],
  ])('rejects %s as durationMs without adding a series', (_, durationMs) => {
    const { monitor } = setup();
    expect(() => monitor.record('op', durationMs as never)).toThrow(InvalidArgumentError);
    expect(() => monitor.record('', 1)).toThrow(InvalidArgumentError);
    expect(() => monitor.record('op', 1, { labels: { le: 'x' } })).toThrow(InvalidArgumentError);
    expect(() => monitor.record('op', 1, { thresholdMs: 0 })).toThrow(InvalidArgumentError);
    expect(monitor.operations()).toEqual([]);
  });
});
