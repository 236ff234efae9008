// A limiter on Redis through a loopback TCP proxy that the tests stop, restart and stall: while
// Redis is away the insurance limiter decides (or, fail-closed, every call is refused), nothing
// throws, no rejection goes unhandled, no call waits past the command timeout, one store-error
// per outage and a store-recovered once Redis answers again.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  type LimiterDecision,
  type RateLimiter,
} from '../../../src/security/rate-limit/index.js';
import { collectUnhandledRejections, startRedisProxy, until } from '../../support/redis-outage.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import type { TcpProxy } from '../../support/tcp-proxy.js';

const TIMEOUT_MS = 200;

/** Calls the limiter every few milliseconds on a handful of keys until stopped; keeps everything. */
function drive(limiter: RateLimiter) {
  const decisions: { at: number; ms: number; decision: LimiterDecision }[] = [];
  const failures: unknown[] = [];
  let running = true;
  const loop = (async () => {
    let i = 0;
    while (running) {
      const started = Date.now();
      try {
        const decision = await limiter.consume(`client-${i++ % 5}`);
        decisions.push({ at: started, ms: Date.now() - started, decision });
      } catch (error) {
        failures.push(error);
      }
      await sleep(3);
    }
  })();
  return {
    decisions,
    failures,
    since: (at: number) => decisions.filter((d) => d.at >= at),
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe.runIf(requires(redis))('a rate limiter whose Redis goes away', () => {
  const unhandled = collectUnhandledRejections();
  let admin: Redis;
  let proxy: TcpProxy;
  let prefix: string;
  let limiter: RateLimiter | undefined;

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach(async () => {
    unhandled.length = 0;
    prefix = `test:rate-limit-outage:${randomUUID()}`;
    proxy = await startRedisProxy();
  });
  afterEach(async () => {
    await limiter?.close();
    limiter = undefined;
    await proxy.close();
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length > 0) await admin.del(...keys);
  });

  const build = (overrides: Partial<Parameters<typeof createRateLimiter>[0]> = {}) => {
    limiter = createRateLimiter({
      limit: 1_000,
      window: '1m',
      redisUrl: `redis://127.0.0.1:${proxy.port}`,
      prefix,
      commandTimeoutMs: TIMEOUT_MS,
      probeIntervalMs: 100,
      insurance: { limit: 20, window: '1m' },
      ...overrides,
    });
    return limiter;
  };

  it('decides through the insurance limiter while Redis is down, and goes back to Redis when it returns', async () => {
    const limiter = build();
    const events: string[] = [];
    limiter.on('store-error', () => events.push('store-error'));
    limiter.on('store-recovered', () => events.push('store-recovered'));
    const run = drive(limiter);
    await until(() => run.decisions.length >= 20, 'decisions from Redis');
    expect(new Set(run.decisions.map((d) => d.decision.source))).toEqual(new Set(['store']));

    const port = proxy.port;
    const downAt = Date.now();
    await proxy.close();
    await until(() => events.includes('store-error'), 'store-error');
    // Down for a second: long enough for calls that never touch Redis.
    await sleep(1_000);
    expect(
      run.since(downAt).filter((d) => d.decision.source === 'insurance').length,
    ).toBeGreaterThan(50);
    expect(limiter.stats()).toMatchObject({ storeDown: true, onInsurance: true, outages: 1 });
    // The insurance limiter really limits: 20 per minute per key, 5 keys.
    const insured = run.decisions.filter((d) => d.decision.source === 'insurance');
    expect(insured.filter((d) => d.decision.allowed).length).toBeLessThanOrEqual(100);

    const upAt = Date.now();
    proxy = await startRedisProxy(port);
    await until(() => events.includes('store-recovered'), 'store-recovered', 15_000);
    await until(
      () => run.since(upAt).length >= 1 && run.decisions.at(-1)!.decision.source === 'store',
      'decisions from Redis again',
    );
    await run.stop();

    expect(events).toEqual(['store-error', 'store-recovered']);
    expect(limiter.stats()).toMatchObject({
      storeDown: false,
      onInsurance: false,
      insuranceKeys: 0,
    });
    expect(run.failures).toEqual([]);
    expect(unhandled).toEqual([]);
    // Nobody waited for the dead connection longer than the command timeout (plus scheduling).
    expect(Math.max(...run.decisions.map((d) => d.ms))).toBeLessThan(TIMEOUT_MS + 300);
    // Once the outage was known, calls did not wait for Redis at all.
    const settled = run.decisions.filter((d) => d.at > downAt + TIMEOUT_MS + 100 && d.at < upAt);
    expect(settled.length).toBeGreaterThan(0);
    expect(Math.max(...settled.map((d) => d.ms))).toBeLessThan(50);
  }, 30_000);

  it('never hangs when Redis stops answering without closing anything, and recovers when it answers', async () => {
    const limiter = build();
    const events: string[] = [];
    limiter.on('store-error', () => events.push('store-error'));
    limiter.on('store-recovered', () => events.push('store-recovered'));
    const run = drive(limiter);
    await until(() => run.decisions.length >= 10, 'decisions from Redis');
    proxy.stall();
    await until(() => events.includes('store-error'), 'store-error');
    const stalledAt = Date.now();
    await until(() => run.since(stalledAt).length >= 30, 'decisions while stalled');
    expect(new Set(run.since(stalledAt).map((d) => d.decision.source))).toEqual(
      new Set(['insurance']),
    );
    proxy.resume();
    await until(() => events.includes('store-recovered'), 'store-recovered');
    await run.stop();
    expect(events).toEqual(['store-error', 'store-recovered']);
    expect(run.failures).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(Math.max(...run.decisions.map((d) => d.ms))).toBeLessThan(TIMEOUT_MS + 300);
  }, 30_000);

  it("refuses every call while Redis is down with onStoreError 'closed', and admits again when it returns", async () => {
    const limiter = build({ onStoreError: 'closed' });
    const events: string[] = [];
    limiter.on('store-error', () => events.push('store-error'));
    limiter.on('store-recovered', () => events.push('store-recovered'));
    const run = drive(limiter);
    await until(() => run.decisions.length >= 10, 'decisions from Redis');
    const port = proxy.port;
    await proxy.close();
    await until(() => events.includes('store-error'), 'store-error');
    const downAt = Date.now();
    await until(() => run.since(downAt).length >= 30, 'decisions while down');
    const whileDown = run.since(downAt);
    expect(whileDown.every((d) => !d.decision.allowed && d.decision.source === 'closed')).toBe(
      true,
    );
    expect(limiter.stats()).toMatchObject({ storeDown: true, onInsurance: false });

    proxy = await startRedisProxy(port);
    await until(() => events.includes('store-recovered'), 'store-recovered', 15_000);
    const upAt = Date.now();
    await until(() => run.since(upAt).length >= 5, 'decisions after recovery');
    await run.stop();
    expect(run.since(upAt).every((d) => d.decision.allowed && d.decision.source === 'store')).toBe(
      true,
    );
    expect(events).toEqual(['store-error', 'store-recovered']);
    expect(run.failures).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(Math.max(...run.decisions.map((d) => d.ms))).toBeLessThan(TIMEOUT_MS + 300);
  }, 30_000);
});
