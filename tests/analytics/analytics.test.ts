// Analytics: what application code relies on — track() never throws and stays cheap, bad input is
// dropped and reported, events reach the store pseudonymised and batched, the figures are exact
// (funnels, cohorts, counts) or within HyperLogLog's precision (active users), queries refuse bad
// parameters by name, a failing store never loses more than the bounded buffer.
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Analytics,
  type AnalyticsBatch,
  AnalyticsConfigError,
  type AnalyticsOptions,
  AnalyticsQueryError,
  type AnalyticsStore,
  AnalyticsStoreError,
  DAY_MS,
  dayOf,
  MemoryAnalyticsStore,
} from '../../src/analytics/index.js';
import type { Logger } from '../../src/core/logger.js';
import {
  CHECKOUT,
  cohortScenario,
  funnelScenario,
  PAYMENT,
} from '../../src/testing/analytics-data.js';

const KEY = 'a-test-hash-key-of-enough-bytes';
const open: Analytics[] = [];

function quietLogger(lines: { level: string; message: string; fields: object }[] = []): Logger {
  const log = (level: string) => (fields: object, message: string) =>
    lines.push({ level, message, fields });
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  return logger;
}

function build(options: AnalyticsOptions = {}): Analytics {
  const analytics = new Analytics({ hashKey: KEY, logger: quietLogger(), ...options });
  open.push(analytics);
  return analytics;
}

/** A memory store that remembers every batch it was given. */
function recordingStore(): MemoryAnalyticsStore & { batches: AnalyticsBatch[] } {
  const store = new MemoryAnalyticsStore() as MemoryAnalyticsStore & { batches: AnalyticsBatch[] };
  store.batches = [];
  const record = store.record.bind(store);
  store.record = (batch) => {
    store.batches.push(batch);
    return record(batch);
  };
  return store;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

describe('track()', () => {
  it('never throws, drops bad input and says why', () => {
    const lines: { level: string; message: string; fields: object }[] = [];
    const analytics = build({ logger: quietLogger(lines) });
    const dropped: { reason: string; field?: string }[] = [];
    analytics.on('dropped', (event) => dropped.push(event));
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );
    const bad: [unknown, unknown][] = [
      ['', undefined],
      ['x'.repeat(201), undefined],
      [42, undefined],
      [undefined, undefined],
      ['\uD800lone', undefined],
      ['ok', 'not an object'],
      ['ok', { userId: '' }],
      ['ok', { userId: 'u'.repeat(257) }],
      ['ok', { userId: { id: 1 } }],
      ['ok', { userId: Number.NaN }],
      ['ok', { at: Date.now() + 3_600_000 }],
      ['ok', { at: Date.now() - 91 * DAY_MS }],
      ['ok', { at: 'yesterday' }],
      ['ok', { at: new Date(Number.NaN) }],
      ['ok', { properties: [1, 2] }],
      ['ok', { properties: 'plan=pro' }],
      ['ok', hostile],
    ];
    for (const [event, options] of bad) {
      expect(analytics.track(event as string, options as never)).toBe(false);
    }
    expect(analytics.stats().dropped.invalid).toBe(bad.length);
    expect(analytics.stats().tracked).toBe(0);
    expect(dropped.map((d) => d.field)).toEqual([
      ...Array(5).fill('event'),
      'options',
      ...Array(4).fill('userId'),
      ...Array(4).fill('at'),
      'properties',
      'properties',
      'options',
    ]);
    // One warning per reason and field, not one per event.
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings.length).toBe(new Set(dropped.map((d) => d.field)).size);
    expect(warnings[0]!.message).toContain('dropped');
  });

  it('accepts user ids as strings or numbers, a time within the retention, and properties', () => {
    const analytics = build();
    expect(analytics.track('signup')).toBe(true);
    expect(analytics.track('signup', { userId: 'u-1' })).toBe(true);
    expect(analytics.track('signup', { userId: 7, at: new Date(Date.now() - DAY_MS) })).toBe(true);
    expect(analytics.track('signup', { userId: null as never, at: Date.now() + 60_000 })).toBe(
      true,
    );
    expect(analytics.track('signup', { properties: { plan: 'pro' } })).toBe(true);
    expect(analytics.stats()).toMatchObject({ tracked: 5, buffered: 5, written: 0 });
  });

  it('drops events with a new name past maxEventNames', () => {
    const analytics = build({ maxEventNames: 3 });
    for (const name of ['a', 'b', 'c', 'a', 'd', 'e', 'b']) analytics.track(name);
    expect(analytics.stats()).toMatchObject({ tracked: 5, dropped: { 'event-limit': 2 } });
  });

  it('costs the caller a few hundred nanoseconds at most', () => {
    const analytics = build({ maxBuffered: 1_000_000, batchSize: 10_000 });
    for (let i = 0; i < 20_000; i++) analytics.track('warm', { userId: i });
    const n = 200_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) analytics.track('page', { userId: i % 5_000 });
    const perCall = Number(process.hrtime.bigint() - started) / n;
    // A loose bound for a shared CI machine; bench/analytics-events.bench.ts measures it.
    expect(perCall).toBeLessThan(2_000);
  });
});

describe('writing', () => {
  it('writes on the timer in batches, user ids pseudonymised with the keyed hash', async () => {
    const store = recordingStore();
    const analytics = build({ store, flushInterval: '50ms', batchSize: 10 });
    for (let i = 0; i < 25; i++) analytics.track('view', { userId: `user-${i % 5}` });
    analytics.track('view');
    await expect.poll(() => analytics.stats().written, { timeout: 2_000 }).toBe(26);
    const events = store.batches.flatMap((b) => b.events);
    expect(store.batches.map((b) => b.events.length).sort((a, b) => b - a)).toEqual([10, 10, 6]);
    const expected = createHmac('sha256', KEY).update('user-3').digest('hex').slice(0, 16);
    expect(events.map((e) => e.user)).toContain(expected);
    expect(analytics.pseudonym('user-3')).toBe(expected);
    expect(JSON.stringify(store.batches)).not.toContain('user-');
    expect(new Set(store.batches.map((b) => b.id)).size).toBe(3);
  });

  it('gives one user the same pseudonym on every instance with the same key, another with another key', () => {
    const a = build();
    const b = build({ env: { ANALYTICS_HASH_KEY: KEY }, hashKey: undefined });
    const c = build({ hashKey: 'another-key-of-enough-bytes' });
    expect(a.pseudonym('u1')).toBe(b.pseudonym('u1'));
    expect(a.pseudonym('u1')).not.toBe(c.pseudonym('u1'));
    expect(b.stats().hashKey).toBe('env');
  });

  it('keeps the latest events with scalar properties for recent(), and nothing else raw', async () => {
    const analytics = build({ recentEvents: 3 });
    analytics.track('a', {
      userId: 'alice',
      properties: { plan: 'pro', n: 2, nested: { x: 1 }, long: 'x'.repeat(300) },
    });
    analytics.track('b');
    analytics.track('c');
    analytics.track('d', { userId: 'bob' });
    await analytics.flush();
    const recent = analytics.recent();
    expect(recent.map((r) => r.event)).toEqual(['d', 'c', 'b']);
    expect(recent[0]!.user).toBe(analytics.pseudonym('bob'));
    const first = build({ recentEvents: 3 });
    first.track('a', {
      userId: 'alice',
      properties: { plan: 'pro', nested: { x: 1 }, long: 'x'.repeat(300) },
    });
    await first.flush();
    expect(first.recent()[0]!.properties).toEqual({ plan: 'pro', long: 'x'.repeat(200) });
  });

  it('keeps events while the store fails, bounded, and writes them once it is back', async () => {
    let failing = true;
    const inner = new MemoryAnalyticsStore();
    const store: AnalyticsStore = {
      shared: false,
      record: async (batch) => {
        if (failing) throw new Error('store away');
        await inner.record(batch);
      },
      eventCounts: (a, b) => inner.eventCounts(a, b),
      activeUsers: (r) => inner.activeUsers(r),
      funnel: (f, a, b) => inner.funnel(f, a, b),
      cohorts: (a, b, w) => inner.cohorts(a, b, w),
    };
    const analytics = build({ store, flushInterval: '20ms', batchSize: 50, maxBuffered: 300 });
    const seen: string[] = [];
    analytics.on('store-error', () => seen.push('store-error'));
    analytics.on('store-recovered', () => seen.push('store-recovered'));
    for (let i = 0; i < 200; i++) analytics.track('view', { userId: i });
    await expect.poll(() => seen).toEqual(['store-error']);
    for (let i = 0; i < 200; i++) analytics.track('view', { userId: i });
    await analytics.flush();
    expect(analytics.stats()).toMatchObject({
      storeDown: true,
      buffered: 300,
      dropped: { overflow: 100 },
    });
    failing = false;
    await analytics.flush();
    expect(seen).toEqual(['store-error', 'store-recovered']);
    expect(analytics.stats()).toMatchObject({
      storeDown: false,
      buffered: 0,
      written: 300,
      outages: 1,
    });
    const report = await analytics.events();
    expect(report.total).toBe(300);
  });

  it('counts a batch once when the answer to its write was lost', async () => {
    const inner = new MemoryAnalyticsStore();
    let lose = 1;
    const store: AnalyticsStore = {
      shared: false,
      record: async (batch) => {
        await inner.record(batch);
        if (lose-- > 0) throw new Error('reply lost');
      },
      eventCounts: (a, b) => inner.eventCounts(a, b),
      activeUsers: (r) => inner.activeUsers(r),
      funnel: (f, a, b) => inner.funnel(f, a, b),
      cohorts: (a, b, w) => inner.cohorts(a, b, w),
    };
    const analytics = build({ store });
    for (let i = 0; i < 10; i++) analytics.track('pay', { userId: i });
    await analytics.flush();
    expect(analytics.stats().storeDown).toBe(true);
    await analytics.flush();
    expect(analytics.stats()).toMatchObject({ storeDown: false, written: 10 });
    expect((await analytics.events()).total).toBe(10);
  });

  it('writes what is left on close, then drops late events and closes only the stores it opened', async () => {
    const given = recordingStore();
    let closed = 0;
    given.close = async () => {
      closed++;
    };
    const analytics = build({ store: given, flushInterval: '1h' });
    analytics.track('bye', { userId: 1 });
    await analytics.close();
    await analytics.close();
    expect(given.batches.flatMap((b) => b.events)).toHaveLength(1);
    expect(analytics.track('late')).toBe(false);
    expect(analytics.stats().dropped.closed).toBe(1);
    expect(closed).toBe(0);
  });
});

describe('figures', () => {
  it('answers funnels exactly, for every funnel and range', async () => {
    const now = Date.now();
    const { events, day, expected } = funnelScenario(now);
    const analytics = build({
      funnels: {
        [CHECKOUT.name]: { steps: CHECKOUT.steps, within: '1h' },
        [PAYMENT.name]: { steps: PAYMENT.steps, within: '30m' },
      },
      batchSize: 64,
    });
    for (const e of events)
      analytics.track(e.event, { ...(e.user ? { userId: e.user } : {}), at: e.at });
    await analytics.flush();
    const iso = (d: number) => new Date(d * DAY_MS).toISOString();
    const checkout = await analytics.funnel(CHECKOUT.name, { from: iso(day), to: iso(day) + '' });
    expect(checkout.steps.map((s) => s.users)).toEqual(expected[CHECKOUT.name]!.day);
    expect(checkout.steps[2]!.conversion).toBeCloseTo(130 / 270);
    expect(checkout.steps[1]!.fromPrevious).toBeCloseTo(180 / 270);
    const both = await analytics.funnels({ from: day * DAY_MS, to: (day + 1) * DAY_MS + 1 });
    expect(both.map((f) => [f.name, f.steps.map((s) => s.users)])).toEqual([
      [CHECKOUT.name, expected[CHECKOUT.name]!.both],
      [PAYMENT.name, expected[PAYMENT.name]!.both],
    ]);
  });

  it('answers weekly retention exactly, with null for weeks to come', async () => {
    const now = Date.now();
    const { events, expected } = cohortScenario(now);
    const analytics = build({ cohorts: { weeks: 4 } });
    for (const e of events) analytics.track(e.event, { userId: e.user!, at: e.at });
    await analytics.flush();
    const report = await analytics.retention();
    expect(report.weeks).toBe(4);
    expect(report.cohorts.map((c) => c.size)).toEqual([100, 50, 10]);
    expect(report.cohorts[0]!.returned).toEqual(expected[0]!.returned);
    expect(report.cohorts[1]!.returned).toEqual([50, 0, 20, null]);
    expect(report.cohorts[2]!.returned).toEqual([10, 0, null, null]);
    expect(report.cohorts[0]!.rates).toEqual([1, 0.6, 0.4, 0.1]);
    expect(report.cohorts[0]!.week).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(new Date(report.cohorts[0]!.week).getUTCDay()).toBe(1);
  });

  it('answers active users within 2% and event counts exactly in the overview', async () => {
    const now = Date.now();
    const today = dayOf(now);
    const analytics = build({ batchSize: 5_000, maxBuffered: 1_000_000 });
    // 20,000 users today, 10,000 of them and 10,000 others on each of the 6 days before.
    for (let i = 0; i < 20_000; i++) analytics.track('visit', { userId: i, at: now - (i % 1000) });
    for (let d = 1; d <= 6; d++) {
      for (let i = 10_000; i < 30_000; i++) {
        analytics.track('visit', {
          userId: d % 2 === 0 ? i : i + 20_000,
          at: (today - d) * DAY_MS + 1_000,
        });
      }
    }
    analytics.track('signup', { at: now });
    await analytics.flush();
    const overview = await analytics.overview();
    const near = (value: number, truth: number) =>
      expect(Math.abs(value - truth) / truth).toBeLessThan(0.02);
    near(overview.activeUsers.day, 20_000);
    near(overview.activeUsers.week, 50_000);
    near(overview.activeUsers.month, 50_000);
    near(overview.dailyActiveUsers.users.at(-1)!, 20_000);
    near(overview.dailyActiveUsers.users.at(-2)!, 20_000);
    expect(overview.dailyActiveUsers.users[0]).toBe(0);
    expect(overview.activeUsers.standardError).toBeCloseTo(0.0081, 4);
    expect(overview.events.last7d).toBe(20_000 + 6 * 20_000 + 1);
    expect(overview.topEvents).toEqual([
      { event: 'visit', count: 140_000 },
      { event: 'signup', count: 1 },
    ]);
    expect(overview.pipeline).toMatchObject({ tracked: 140_001, written: 140_001 });
  });

  it('gives event series per hour or day, top events first, zeros where nothing happened', async () => {
    const now = Date.now();
    const analytics = build();
    const hour = Math.floor(now / 3_600_000) * 3_600_000;
    for (let i = 0; i < 5; i++) analytics.track('a', { at: hour - 2 * 3_600_000 });
    for (let i = 0; i < 3; i++) analytics.track('b', { at: hour });
    analytics.track('c', { at: hour });
    await analytics.flush();
    const report = await analytics.events({ from: hour - 3 * 3_600_000, to: now, step: 'hour' });
    expect(report.buckets).toHaveLength(4);
    expect(report.top).toEqual([
      { event: 'a', count: 5 },
      { event: 'b', count: 3 },
      { event: 'c', count: 1 },
    ]);
    expect(report.series.find((s) => s.event === 'a')!.counts).toEqual([0, 5, 0, 0]);
    expect(report.totals).toEqual([0, 5, 0, 4]);
    const days = await analytics.events({ step: 'day', events: ['b', 'zzz'] });
    expect(days.buckets).toHaveLength(8);
    expect(days.series.map((s) => [s.event, s.total])).toEqual([
      ['b', 3],
      ['zzz', 0],
    ]);
  });
});

describe('bad queries and configuration', () => {
  it('refuses bad query parameters with an error naming them', async () => {
    const analytics = build({ funnels: { checkout: { steps: ['a', 'b'] } } });
    const refused = async (promise: Promise<unknown>, parameter: string) => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AnalyticsQueryError);
      expect(error).toMatchObject({ code: 'E_ANALYTICS_QUERY', context: { parameter } });
    };
    await refused(analytics.events({ from: 'not a date' }), 'from');
    await refused(analytics.events({ to: -5 }), 'to');
    await refused(analytics.events({ from: Date.now(), to: Date.now() - DAY_MS }), 'from');
    await refused(analytics.events({ step: 'minute' as never }), 'step');
    const long = build({ dataRetention: '400d' });
    await refused(long.events({ from: Date.now() - 300 * DAY_MS, step: 'hour' }), 'step');
    await refused(analytics.events({ limit: 0 }), 'limit');
    await refused(analytics.funnel('nope'), 'funnel');
    await refused(analytics.retention({ weeks: 13 }), 'weeks');
  });

  it('reports a store that does not answer as AnalyticsStoreError', async () => {
    const store = new MemoryAnalyticsStore();
    store.eventCounts = () => Promise.reject(new Error('down'));
    const analytics = build({ store });
    await expect(analytics.events()).rejects.toBeInstanceOf(AnalyticsStoreError);
    await expect(analytics.overview()).rejects.toMatchObject({ code: 'E_ANALYTICS_STORE' });
  });

  it('requires a hash key with a shared store, before opening any connection', () => {
    const attempt = (options: AnalyticsOptions) => () =>
      new Analytics({ env: {}, logger: quietLogger(), ...options });
    expect(attempt({ redisUrl: 'redis://127.0.0.1:1' })).toThrow(AnalyticsConfigError);
    expect(attempt({ redisUrl: 'redis://127.0.0.1:1' })).toThrow(/ANALYTICS_HASH_KEY/);
    const shared = Object.assign(new MemoryAnalyticsStore(), { shared: true });
    expect(attempt({ store: shared })).toThrow(
      expect.objectContaining({
        code: 'E_ANALYTICS_CONFIG',
        context: expect.objectContaining({ field: 'hashKey' }),
      }),
    );
    expect(attempt({ hashKey: 'short' })).toThrow(/at least 16 bytes/);
    expect(attempt({ env: { ANALYTICS_HASH_KEY: 'short' } })).toThrow(/ANALYTICS_HASH_KEY/);
    const memory = build({ hashKey: undefined, env: {} });
    expect(memory.stats().hashKey).toBe('random');
  });

  it('refuses bad options with an error naming the field', () => {
    const field = (options: AnalyticsOptions) => {
      try {
        new Analytics({ hashKey: KEY, ...options });
      } catch (error) {
        expect(error).toBeInstanceOf(AnalyticsConfigError);
        return (error as AnalyticsConfigError).context.field;
      }
      return undefined;
    };
    expect(field({ funnels: { f: { steps: ['only'] } } })).toBe('funnels.f.steps');
    expect(field({ funnels: { f: { steps: ['a', ''] } } })).toBe('funnels.f.steps[1]');
    expect(field({ funnels: { f: { steps: ['a', 'b'], within: '100d' } } })).toBe(
      'funnels.f.within',
    );
    expect(field({ cohorts: { weeks: 40 } })).toBe('cohorts.weeks');
    expect(field({ dataRetention: 'forever' as never })).toBe('dataRetention');
    expect(field({ store: 'redis' })).toBe('redisUrl');
    expect(field({ store: {} as never })).toBe('store');
    expect(field({ redisUrl: 'redis://x', prefix: '{x}' })).toBe('prefix');
    expect(field({ maxBuffered: 0 })).toBe('maxBuffered');
  });
});

it('lets the process exit: its timer is unref’d', async () => {
  const analytics = build({ flushInterval: '10ms' });
  analytics.track('x');
  await sleep(30);
  expect(analytics.stats().written).toBe(1);
});
