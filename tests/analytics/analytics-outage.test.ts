// Analytics on Redis through a loopback TCP proxy that the tests stop, restart, stall and make
// lose replies: track() never throws nor waits, events wait in memory (bounded) and reach Redis
// once it is back, each exactly once, and no rejection goes unhandled.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Analytics, hourOf, RedisAnalyticsStore } from '../../src/analytics/index.js';
import type { Logger } from '../../src/core/logger.js';
import { collectUnhandledRejections, startRedisProxy, until } from '../support/redis-outage.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

const TIMEOUT_MS = 200;
const KEY = 'outage-test-hash-key-0123456789';

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silent,
};

/** Tracks a few events every few milliseconds until stopped; keeps what happened. */
function drive(analytics: Analytics) {
  let tracked = 0;
  let refused = 0;
  let slowest = 0;
  const failures: unknown[] = [];
  let running = true;
  const loop = (async () => {
    let i = 0;
    while (running) {
      for (let n = 0; n < 10; n++) {
        const started = performance.now();
        try {
          if (analytics.track(`e${i % 3}`, { userId: `user-${i % 500}` })) tracked++;
          else refused++;
        } catch (error) {
          failures.push(error);
        }
        slowest = Math.max(slowest, performance.now() - started);
        i++;
      }
      await sleep(2);
    }
  })();
  return {
    get tracked() {
      return tracked;
    },
    get refused() {
      return refused;
    },
    get slowest() {
      return slowest;
    },
    failures,
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe.runIf(requires(redis))('analytics whose Redis goes away', () => {
  const unhandled = collectUnhandledRejections();
  let admin: Redis;
  let proxy: TcpProxy;
  let prefix: string;
  let analytics: Analytics | undefined;
  let reader: RedisAnalyticsStore;

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach(async () => {
    unhandled.length = 0;
    prefix = `test:analytics-outage:${randomUUID()}`;
    proxy = await startRedisProxy();
    reader = new RedisAnalyticsStore({ url: REDIS_URL, prefix });
  });
  afterEach(async () => {
    await analytics?.close();
    analytics = undefined;
    await reader.close();
    await proxy.close();
    const keys = await admin.keys(`{${prefix}}:*`);
    for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
  });

  const build = () => {
    analytics = new Analytics({
      redisUrl: `redis://127.0.0.1:${proxy.port}`,
      prefix,
      hashKey: KEY,
      commandTimeoutMs: TIMEOUT_MS,
      flushInterval: '50ms',
      batchSize: 200,
      logger: silent,
      funnels: { steps: { steps: ['e0', 'e1', 'e2'], within: '1h' } },
    });
    return analytics;
  };

  /** Every event counted in Redis for the last hours. */
  const counted = async () => {
    const rows = await reader.eventCounts(hourOf(Date.now()) - 2, hourOf(Date.now()) + 1);
    return rows.reduce((sum, row) => sum + [...row.counts.values()].reduce((a, b) => a + b, 0), 0);
  };

  it('buffers while Redis is down and writes every event once when it returns', async () => {
    const analytics = build();
    const events: string[] = [];
    analytics.on('store-error', () => events.push('store-error'));
    analytics.on('store-recovered', () => events.push('store-recovered'));
    const run = drive(analytics);
    await until(() => analytics.stats().written >= 500, 'writes to Redis');

    const port = proxy.port;
    await proxy.close();
    await until(() => events.includes('store-error'), 'store-error');
    await sleep(1_000);
    expect(analytics.stats()).toMatchObject({ storeDown: true, outages: 1 });
    expect(analytics.stats().buffered).toBeGreaterThan(1_000);

    proxy = await startRedisProxy(port);
    await until(() => events.includes('store-recovered'), 'store-recovered', 15_000);
    await run.stop();
    await analytics.flush();

    expect(events).toEqual(['store-error', 'store-recovered']);
    expect(run.failures).toEqual([]);
    expect(run.refused).toBe(0);
    expect(unhandled).toEqual([]);
    // The caller never waited for Redis (a wait would last the command timeout); the margin is
    // for a GC pause on a loaded machine.
    expect(run.slowest).toBeLessThan(TIMEOUT_MS * 0.75);
    expect(analytics.stats()).toMatchObject({
      storeDown: false,
      buffered: 0,
      written: run.tracked,
    });
    expect(await counted()).toBe(run.tracked);
    const users = await reader.activeUsers([
      { from: Math.floor(Date.now() / 86_400_000), to: Math.floor(Date.now() / 86_400_000) },
    ]);
    expect(Math.abs(users[0]! - 500)).toBeLessThanOrEqual(10);
  }, 40_000);

  it('never waits past the timeout when Redis stops answering, and counts a write that was late exactly once', async () => {
    const analytics = build();
    const events: string[] = [];
    analytics.on('store-error', () => events.push('store-error'));
    analytics.on('store-recovered', () => events.push('store-recovered'));
    const run = drive(analytics);
    await until(() => analytics.stats().written >= 200, 'writes to Redis');
    proxy.stall();
    await until(() => events.includes('store-error'), 'store-error');
    await sleep(500);
    // What was held reaches Redis on resume, and the same batches are sent again: their markers
    // make the second writes no-ops.
    proxy.resume();
    await until(() => events.includes('store-recovered'), 'store-recovered');
    await run.stop();
    await analytics.flush();
    expect(events).toEqual(['store-error', 'store-recovered']);
    expect(run.failures).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(await counted()).toBe(run.tracked);
  }, 40_000);

  it('counts a batch whose reply was lost exactly once', async () => {
    const analytics = build();
    for (let i = 0; i < 300; i++) analytics.track('e0', { userId: `u${i}` });
    // Every batch's script names its marker key.
    const lost = proxy.loseReplyTo(`${prefix}}:b:`);
    await analytics.flush();
    await lost;
    for (let i = 0; i < 5 && analytics.stats().buffered > 0; i++) {
      await sleep(200);
      await analytics.flush();
    }
    expect(proxy.lost).toBe(1);
    expect(analytics.stats().buffered).toBe(0);
    expect(await counted()).toBe(300);
    expect(unhandled).toEqual([]);
  }, 20_000);

  it('drops the oldest events past maxBuffered while Redis is away, and says so', async () => {
    await proxy.close();
    analytics = new Analytics({
      redisUrl: `redis://127.0.0.1:${proxy.port}`,
      prefix,
      hashKey: KEY,
      commandTimeoutMs: TIMEOUT_MS,
      flushInterval: '50ms',
      batchSize: 100,
      maxBuffered: 1_000,
      logger: silent,
    });
    let dropped = 0;
    analytics.on('dropped', (event) => {
      dropped += event.count;
    });
    // Past the bound, events are refused as they come (the raw buffer is full) or the oldest
    // batches go (once pseudonymised): either way counted, reported, and never thrown.
    for (let i = 0; i < 5_000; i++) analytics.track('e', { userId: i });
    await analytics.flush();
    expect(analytics.stats().buffered).toBeLessThanOrEqual(1_000);
    expect(dropped).toBe(5_000 - analytics.stats().buffered);
    expect(analytics.stats().dropped.overflow).toBe(dropped);
    expect(unhandled).toEqual([]);
  }, 20_000);
});
