import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cacheFigures,
  performanceFigures,
  Recommender,
  recommend,
  recommendationInputs,
  taskFigures,
} from '../../src/alerts/recommendations.js';
import { type Cache, createCache } from '../../src/cache/cache.js';
import { MemoryTier } from '../../src/cache/tiers/memory.js';
import { createEnterprise, type Enterprise, type TaskOptions } from '../../src/index.js';
import { memoryTaskBackend } from '../../src/tasks/index.js';
import { EPOCH, setup } from '../performance/helpers.js';
import { eventually } from '../support/eventually.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const instances: Enterprise[] = [];
const caches: Cache[] = [];

afterEach(async () => {
  await Promise.all(instances.splice(0).map((e) => e.shutdown()));
  await Promise.all(caches.splice(0).map((c) => c.close()));
});

function monitored(options: Parameters<typeof setup>[0] = {}) {
  const made = setup(options);
  instances.push(made.enterprise);
  return made;
}

function withTasks(tasks: TaskOptions = {}): Enterprise {
  const e = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
    tasks: { backend: memoryTaskBackend(), shutdownTimeout: '200ms', ...tasks },
  });
  instances.push(e);
  return e;
}

const ORDERS = 'SELECT * FROM orders WHERE customer_id = ?';
const USERS = 'SELECT * FROM users WHERE id = ?';

describe('recommendations from a real performance monitor', () => {
  it('single out the statement that dominates the database time', () => {
    const { monitor, clock } = monitored();
    for (let i = 0; i < 100; i++) {
      monitor.record('db.query', 80, { labels: { statement: ORDERS } });
      monitor.record('db.query', 2, { labels: { statement: USERS } });
    }
    monitor.record('UserService.find', 5);
    clock.advance(10_000);
    const figures = performanceFigures(monitor);
    expect(figures.queries).toEqual([
      expect.objectContaining({ statement: ORDERS, count: 100, totalMs: 8_000 }),
      expect.objectContaining({ statement: USERS, count: 100, totalMs: 200 }),
    ]);
    const list = recommend({ at: EPOCH, ...figures });
    expect(list.map((r) => r.id)).toEqual([`dominant-query:${ORDERS}`]);
    expect(list[0]!.evidence.share).toBeCloseTo(8_000 / 8_200, 3);
  });

  it('say nothing when the database time is spread over the statements', () => {
    const { monitor, clock } = monitored();
    for (let i = 0; i < 100; i++) {
      monitor.record('db.query', 20, { labels: { statement: ORDERS } });
      monitor.record('db.query', 20, { labels: { statement: USERS } });
    }
    clock.advance(10_000);
    expect(recommend({ at: EPOCH, ...performanceFigures(monitor) })).toEqual([]);
  });

  it('point at the operation ranked first by total time for fifteen minutes', async () => {
    const { monitor, clock } = monitored();
    const recommender = new Recommender();
    const seen: string[] = [];
    for (let minute = 0; minute <= 16; minute++) {
      monitor.record('ReportService.build', 900);
      monitor.record('UserService.find', 30);
      clock.advance(60_000);
      const inputs = await recommendationInputs(
        { performance: monitor },
        { now: () => EPOCH + clock.t },
      );
      seen.push(
        recommender
          .update(inputs)
          .map((r) => r.kind)
          .join() || '-',
      );
    }
    expect(seen.indexOf('persistent-bottleneck')).toBe(15);
    expect(seen.slice(0, 15).every((s) => s === '-')).toBe(true);
  });

  it('name the monitored operation that blocked the event loop', async () => {
    const { monitor } = monitored({
      clock: undefined,
      performance: { systemMetrics: { intervalMs: 300 } },
    });
    monitor.start();
    monitor.context('fast', () => 1);
    monitor.context('ReportService.render', () => {
      const until = performance.now() + 250;
      while (performance.now() < until) {
        // A synchronous render: nothing else runs meanwhile.
      }
    });
    await eventually(() => (monitor.system()?.eventLoop.delayMaxMs ?? 0) >= 150, 'stall sampled');
    const list = recommend({ at: Date.now(), ...performanceFigures(monitor) });
    expect(list.map((r) => r.id)).toEqual(['event-loop-blocker:ReportService.render']);
  });
});

describe('recommendations from a real cache', () => {
  it('flag a namespace that misses most lookups while its loader is slow, and only that one', async () => {
    const cache = createCache({ tiers: [new MemoryTier()], logger: silent, bus: false });
    caches.push(cache);
    const slow = async (ms: number) => {
      await sleep(ms);
      return 'value';
    };
    // Reports: every lookup a different key, each load 120 ms.
    await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        cache.getOrSet(`report:${i}`, () => slow(120), { namespace: 'reports' }),
      ),
    );
    // Users: the same slow loader, but read again and again.
    await cache.getOrSet('user:1', () => slow(120), { namespace: 'users' });
    for (let i = 0; i < 200; i++)
      await cache.getOrSet('user:1', () => slow(120), { namespace: 'users' });
    // Sessions: always missing, but loaded in no time.
    for (let i = 0; i < 150; i++) {
      await cache.getOrSet(`session:${i}`, () => 'fresh', { namespace: 'sessions' });
    }
    const figures = cacheFigures(cache);
    expect(figures.find((f) => f.namespace === 'reports')).toMatchObject({
      hits: 0,
      misses: 150,
      loaderCalls: 150,
    });
    const list = recommend({ at: Date.now(), cache: figures });
    expect(list.map((r) => r.id)).toEqual(['cache-slow-loader:reports']);
    expect(list[0]!.evidence.loaderMeanMs).toBeGreaterThanOrEqual(110);
  });
});

describe('recommendations from a real task manager', () => {
  const tight = { queueAgeMs: 20, queueSpanMs: 40, queueSamples: 3 };

  it('ask for more concurrency when the oldest task keeps waiting behind busy workers', async () => {
    // No prefetch: the tasks behind the running one stay waiting in the queue.
    const e = withTasks({ workerCount: 1, prefetch: 0 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    e.tasks.register('render', () => gate, { queue: 'reports' });
    await e.start();
    await e.tasks.submitMany(Array.from({ length: 5 }, () => ({ name: 'render' })));
    await eventually(
      async () => (await e.tasks.stats()).queues.some((q) => q.name === 'reports' && q.active > 0),
      'one task running',
    );
    const recommender = new Recommender(tight);
    const seen: string[][] = [];
    for (let i = 0; i < 3; i++) {
      await sleep(30);
      const inputs = await recommendationInputs({ tasks: e.tasks });
      seen.push(recommender.update(inputs).map((r) => r.id));
    }
    release();
    expect(seen[2]).toEqual(['queue-ageing:reports']);
    const figures = await taskFigures(e.tasks);
    expect(figures.find((q) => q.queue === 'reports')).toMatchObject({
      concurrency: 1,
      workers: 1,
    });
  });

  it('say that no worker consumes a queue whose tasks only wait', async () => {
    const e = withTasks();
    e.tasks.register('send', () => {}, { queue: 'emails' });
    await e.tasks.submitMany([{ name: 'send' }, { name: 'send' }]);
    const recommender = new Recommender(tight);
    let last: ReturnType<Recommender['update']> = [];
    for (let i = 0; i < 3; i++) {
      await sleep(30);
      last = recommender.update(await recommendationInputs({ tasks: e.tasks }));
    }
    expect(last).toEqual([
      expect.objectContaining({ id: 'queue-ageing:emails', severity: 'critical' }),
    ]);
  });

  it('stay quiet while the workers keep up', async () => {
    const e = withTasks();
    e.tasks.register('send', () => {}, { queue: 'emails' });
    await e.start();
    const recommender = new Recommender(tight);
    for (let i = 0; i < 4; i++) {
      const ids = await e.tasks.submitMany([{ name: 'send' }, { name: 'send' }]);
      await Promise.all(ids.map((id) => e.tasks.waitFor(id, { timeout: 5 })));
      await sleep(30);
      expect(recommender.update(await recommendationInputs({ tasks: e.tasks }))).toEqual([]);
    }
  });
});
