/**
 * npm run bench:analytics:events
 *
 * Product analytics in one process:
 *
 * 1. `track()` in the caller: nanoseconds per call (an event name, a user id out of 10,000 and
 *    nothing else), the median of BENCH_ROUNDS rounds of BENCH_TRACK_CALLS calls, the buffer
 *    emptied between rounds; goal under 1 µs;
 * 2. folding into the memory store and into Redis: events per second from `track()` to the store
 *    (pseudonymised, batched by 1,000, counters, HyperLogLog, a three-step funnel, 12-week
 *    cohorts), over BENCH_FOLD_EVENTS events of 10,000 users; goal for Redis at least 100,000;
 * 3. for Redis, the same batches written by `RedisAnalyticsStore.record()` alone (events already
 *    pseudonymised): what the store takes once the process's own work is left out.
 *
 * Raw events are never stored. Environment: BENCH_ROUNDS (5), BENCH_TRACK_CALLS (1000000),
 * BENCH_FOLD_EVENTS (200000), REDIS_URL (redis://127.0.0.1:6379).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import {
  Analytics,
  type AnalyticsOptions,
  Pseudonymiser,
  RedisAnalyticsStore,
  type TrackedEvent,
} from '../src/analytics/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TRACK_CALLS = Number(process.env.BENCH_TRACK_CALLS ?? 1_000_000);
const FOLD_EVENTS = Number(process.env.BENCH_FOLD_EVENTS ?? 200_000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `bench:analytics:${randomBytes(4).toString('hex')}`;
const KEY = 'bench-hash-key-0123456789abcdef';
const EVENTS = ['view', 'cart', 'pay', 'search', 'share'];
const USERS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const common: AnalyticsOptions = {
  hashKey: KEY,
  logger: silent,
  flushInterval: '1h',
  maxBuffered: 10_000_000,
  funnels: { checkout: { steps: ['view', 'cart', 'pay'], within: '1h' } },
  cohorts: { weeks: 12 },
};

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function trackCost(): Promise<number> {
  const analytics = new Analytics({ ...common, store: 'memory' });
  const rounds: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const started = performance.now();
    for (let i = 0; i < TRACK_CALLS; i++) {
      analytics.track(EVENTS[i % 5]!, { userId: USERS[(i * 7_919) % 10_000]! });
    }
    const ns = ((performance.now() - started) * 1e6) / TRACK_CALLS;
    if (round > 0) rounds.push(ns);
    await analytics.flush();
  }
  await analytics.close();
  return median(rounds);
}

async function foldRate(options: AnalyticsOptions): Promise<number> {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const analytics = new Analytics({ ...common, ...options });
    const started = performance.now();
    for (let i = 0; i < FOLD_EVENTS; i++) {
      analytics.track(EVENTS[i % 5]!, { userId: USERS[(i * 7_919) % 10_000]! });
      if (i % 20_000 === 19_999) await analytics.flush();
    }
    await analytics.flush();
    rates.push(FOLD_EVENTS / ((performance.now() - started) / 1_000));
    if (analytics.stats().written !== FOLD_EVENTS) throw new Error('not every event was written');
    await analytics.close();
  }
  return median(rates);
}

async function storeRate(): Promise<number> {
  const store = new RedisAnalyticsStore({ url: REDIS_URL, prefix: PREFIX });
  const pseudonyms = new Pseudonymiser(KEY);
  const now = Date.now();
  const events: TrackedEvent[] = Array.from({ length: FOLD_EVENTS }, (_, i) => ({
    event: EVENTS[i % 5]!,
    user: pseudonyms.of(USERS[(i * 7_919) % 10_000]!),
    at: now - FOLD_EVENTS + i,
  }));
  const model = {
    funnels: [{ name: 'checkout', steps: ['view', 'cart', 'pay'], withinMs: 3_600_000 }],
    cohorts: { weeks: 12 },
    retentionMs: 90 * 86_400_000,
    now,
  };
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    for (let i = 0; i < events.length; i += 1_000) {
      await store.record({ id: randomUUID(), events: events.slice(i, i + 1_000), model });
    }
    rates.push(FOLD_EVENTS / ((performance.now() - started) / 1_000));
  }
  await store.close();
  return median(rates);
}

async function cleanup(): Promise<void> {
  const admin = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `{${PREFIX}}:*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await admin.del(...keys);
  } while (cursor !== '0');
  await admin.quit();
}

console.log(
  `node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, load ${os.loadavg()[0]!.toFixed(1)}`,
);
console.log(
  `track() in the caller:        ${(await trackCost()).toFixed(0)} ns per call (goal < 1000)`,
);
console.log(
  `track() → memory store:       ${Math.round(await foldRate({ store: 'memory' })).toLocaleString('en')} events/s`,
);
try {
  const redis = await foldRate({ redisUrl: REDIS_URL, prefix: PREFIX });
  console.log(
    `track() → Redis store:        ${Math.round(redis).toLocaleString('en')} events/s (goal ≥ 100,000)`,
  );
  console.log(
    `RedisAnalyticsStore.record(): ${Math.round(await storeRate()).toLocaleString('en')} events/s`,
  );
} finally {
  await cleanup();
}
