/**
 * npm run bench:cache
 *
 * The cost of a cache hit, side by side in one process on the same ~1 KB JSON-like payload:
 *
 * 1. L1 hit: our `cache.get` (memory tier only), a `@Cached` method and its `cached()` twin, raw
 *    `await lru.get` (lru-cache 11, the library under our memory tier), BentoCache with its memory
 *    driver only (with `serialize: false`, which stores references as we do, and with its default,
 *    which stores JSON), and cache-manager 7 (its default in-memory Keyv store). A `@Cached` method
 *    is a memoizer: beside plain `get`, its like-for-like peers are cache-manager's `wrap(key, fn)`
 *    and BentoCache's `getOrSet({ key, factory })`, given precomputed keys and a preallocated
 *    loader (our decorator builds its key from the arguments).
 * 2. L2 hit with no L1: our cache with the Redis tier only, raw ioredis `getBuffer` + our codec's
 *    `decode` of the same bytes, and BentoCache with its Redis driver only; for reference, raw
 *    `getBuffer` alone and our Redis tier's own `get` + `decode` without the engine around it.
 * 3. Stampede: concurrent `getOrSet` (cache-manager: `wrap`) callers of one missing key whose loader
 *    takes a while; loader calls and wall time.
 *
 * Every timed loop reads pre-filled keys and checks it got a value each time (a miss throws).
 * Variants run interleaved, round after round, starting with a different one each round; each
 * figure is the median round. Redis keys live under a random prefix and are deleted at the end.
 *
 * Environment: BENCH_ROUNDS (15), BENCH_L1_OPS (100000), BENCH_L2_ROUNDS (15), BENCH_L2_OPS (2000),
 * BENCH_STAMPEDE_CALLERS (1000), BENCH_STAMPEDE_TRIALS (5), BENCH_LOADER_MS (20),
 * REDIS_URL (redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import {
  CacheCodec,
  Cached,
  cached,
  createCache,
  memoryTier,
  redisTier,
} from '../src/cache/index.js';

const ROUNDS = intFromEnv('BENCH_ROUNDS', 15);
const L1_OPS = intFromEnv('BENCH_L1_OPS', 100_000);
const L2_ROUNDS = intFromEnv('BENCH_L2_ROUNDS', 15);
const L2_OPS = intFromEnv('BENCH_L2_OPS', 2_000);
const CALLERS = intFromEnv('BENCH_STAMPEDE_CALLERS', 1_000);
const TRIALS = intFromEnv('BENCH_STAMPEDE_TRIALS', 5);
const LOADER_MS = intFromEnv('BENCH_LOADER_MS', 20);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Goals of issue 3 ("Speed"). */
const GOAL_L1_FACTOR = 2;
const GOAL_L1_OVER_LRU_NS = 1_000;
const GOAL_L2_OVER_RAW = 0.15;

const PREFIX = `bench-cache-${randomBytes(6).toString('hex')}`;
const NAMESPACE = 'default';
const HOUR_MS = 3_600_000;

// 1,024 distinct keys, read round-robin: more realistic than one hot key, and all fit every L1.
const KEY_COUNT = 1024;
const MASK = KEY_COUNT - 1;
const KEYS = Array.from({ length: KEY_COUNT }, (_, i) => `product:${i}`);
const IDS = Array.from({ length: KEY_COUNT }, (_, i) => `sku-${i}`);

/** A product as an API would cache it: strings, numbers, booleans, nested objects and arrays. */
const PAYLOAD = {
  id: 'prod_01HZX4Q8T7K2M9N3B5V6C8D0EF',
  sku: 'SKU-48213-BLK-M',
  name: 'Merino Wool Crew Neck Sweater',
  description:
    'A midweight merino sweater knitted in Portugal. Soft, breathable and warm without bulk; machine washable on a wool cycle.',
  price: {
    amount: 8900,
    currency: 'EUR',
    vatIncluded: true,
    discount: { percent: 15, until: '2025-12-31T23:59:59Z' },
  },
  stock: { available: 134, reserved: 12, warehouse: 'LIS-2', restockAt: null },
  categories: ['apparel', 'knitwear', 'men', 'winter'],
  attributes: {
    color: 'black',
    size: 'M',
    material: '100% merino wool',
    fit: 'regular',
    weightGrams: 410,
  },
  images: [
    { url: 'https://cdn.example.com/p/48213/front.jpg', width: 1200, height: 1600, alt: 'Front' },
    { url: 'https://cdn.example.com/p/48213/back.jpg', width: 1200, height: 1600, alt: 'Back' },
  ],
  rating: { average: 4.6, count: 287 },
  seller: { id: 'sel_8812', name: 'Northern Knits Ltd', verified: true, country: 'PT' },
  reviews: [
    { id: 'rev_1', author: 'Ana', stars: 5, title: 'Great fit', createdAt: '2025-01-14T09:12:00Z' },
    {
      id: 'rev_2',
      author: 'Tom',
      stars: 4,
      title: 'Warm, a bit itchy',
      createdAt: '2025-02-03T17:40:00Z',
    },
  ],
  published: true,
  createdAt: '2024-09-01T08:00:00Z',
  updatedAt: '2025-03-11T14:25:31Z',
};

const silent = { debug() {}, info() {}, warn() {}, error() {} };

// Process warnings raised while the benchmark runs are part of its findings: record them.
const warnings = new Map<string, number>();
process.on('warning', (warning) => {
  const text = `${warning.name}: ${warning.message}`;
  warnings.set(text, (warnings.get(text) ?? 0) + 1);
});

type Variant = { name: string; run: (ops: number) => Promise<number> };

function intFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name}=${text}: expected a positive integer`);
  return value;
}

function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
const median = (xs: readonly number[]) => quantile(xs, 0.5);

function version(pkg: string): string {
  const path = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

/**
 * Runs every variant `rounds` times, interleaved, rotating which goes first; returns ns/op samples.
 * Each run must hit on every op.
 */
async function measure(
  variants: readonly Variant[],
  rounds: number,
  ops: number,
  warmupOps: number,
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let pass = 0; pass < 2; pass++) {
    for (const v of variants) {
      const hits = await v.run(warmupOps);
      if (hits !== warmupOps) throw new Error(`${v.name}: ${warmupOps - hits} misses (warm-up)`);
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < variants.length; j++) {
      const v = variants[(round + j) % variants.length]!;
      const start = process.hrtime.bigint();
      const hits = await v.run(ops);
      const ns = Number(process.hrtime.bigint() - start) / ops;
      if (hits !== ops) throw new Error(`${v.name}: ${ops - hits} misses in a timed loop`);
      samples.get(v.name)!.push(ns);
    }
  }
  return samples;
}

/** The median over rounds of `a / b` within each round (the variants of a round run back to back). */
function pairedRatio(samples: Map<string, number[]>, a: string, b: string): number {
  const bs = samples.get(b)!;
  return median(samples.get(a)!.map((x, i) => x / bs[i]!));
}

/** The median over rounds of `a - b` within each round. */
function pairedDifference(samples: Map<string, number[]>, a: string, b: string): number {
  const bs = samples.get(b)!;
  return median(samples.get(a)!.map((x, i) => x - bs[i]!));
}

/** "N.NNx faster" (or slower) from the ratio of their time to ours. */
function speed(theirsOverOurs: number): string {
  return theirsOverOurs >= 1
    ? `${theirsOverOurs.toFixed(2)}x faster`
    : `${(1 / theirsOverOurs).toFixed(2)}x slower`;
}

function verdict(met: boolean): string {
  return met ? 'met' : 'NOT met';
}

// ---- setup ----

const redisOptions = { lazyConnect: false, maxRetriesPerRequest: 1 };
const oursClient = new Redis(REDIS_URL, redisOptions);
const rawClient = new Redis(REDIS_URL, redisOptions);
const bentoClient = new Redis(REDIS_URL, redisOptions); // BentoCache disconnects it itself
const adminClient = new Redis(REDIS_URL, redisOptions);

const ours = createCache({ tiers: [memoryTier()], logger: silent, bus: false });
const oursTier = redisTier({ client: oursClient, prefix: `${PREFIX}:ours` });
const oursL2 = createCache({
  tiers: [oursTier],
  logger: silent,
  bus: false,
});
const lru = new LRUCache<string, object>({ max: 10_000 });
const bentoRef = new BentoCache({
  default: 'memory',
  stores: {
    memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, serialize: false })),
  },
});
const bentoJson = new BentoCache({
  default: 'memory',
  stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) },
});
const bentoL2 = new BentoCache({
  default: 'redis',
  prefix: `${PREFIX}:bento`,
  stores: { redis: bentostore().useL2Layer(redisDriver({ connection: bentoClient })) },
});
const manager = createCacheManager();
const codec = new CacheCodec();

class ProductService {
  loads = 0;

  @Cached({ cache: ours, namespace: 'products', ttl: '1h' })
  async getProduct(_id: string): Promise<typeof PAYLOAD> {
    this.loads++;
    return PAYLOAD;
  }
}
const service = new ProductService();
let functionLoads = 0;
const getProduct = cached(
  { cache: ours, namespace: 'products-fn', ttl: '1h' },
  async function getProduct(_id: string): Promise<typeof PAYLOAD> {
    functionLoads++;
    return PAYLOAD;
  },
);

const rawKey = (key: string) => `${PREFIX}:raw:${key}`;
// The raw baseline binds its entries to namespace and key only; the engine's entries (read by the
// tier reference with decodeEntry) are also bound to their times and tags.
const associated = (key: string) => `${NAMESPACE}\u0000${key}`;

async function prefill(): Promise<void> {
  for (let i = 0; i < KEY_COUNT; i++) {
    const key = KEYS[i]!;
    await ours.set(key, PAYLOAD, { ttl: '1h' });
    lru.set(key, PAYLOAD);
    await bentoRef.set({ key, value: PAYLOAD, ttl: '1h' });
    await bentoJson.set({ key, value: PAYLOAD, ttl: '1h' });
    await manager.set(key, PAYLOAD, HOUR_MS);
    await service.getProduct(IDS[i]!);
    await getProduct(IDS[i]!);
    await oursL2.set(key, PAYLOAD, { ttl: '1h' });
    await rawClient.set(
      rawKey(key),
      Buffer.from(codec.encode(PAYLOAD, associated(key))),
      'PX',
      HOUR_MS,
    );
    await bentoL2.set({ key, value: PAYLOAD, ttl: '1h' });
  }
  if (service.loads !== KEY_COUNT || functionLoads !== KEY_COUNT) {
    throw new Error('pre-fill of the @Cached method did not load each id exactly once');
  }
}

// ---- 1. L1 hit ----

const OURS_GET = 'ours: await cache.get(key)';
const OURS_DECORATOR = 'ours: @Cached method (standard decorator)';
const OURS_FUNCTION = 'ours: cached() function';
const RAW_LRU = 'raw lru-cache 11: await lru.get(key)';
const BENTO_REF = 'BentoCache 1.6 memory driver (serialize: false)';
const BENTO_JSON = 'BentoCache 1.6 memory driver (default: serialize)';
const MANAGER = 'cache-manager 7 (default Keyv in-memory)';
const MANAGER_WRAP = 'cache-manager 7: wrap(key, fn) hit';
const BENTO_GET_OR_SET = 'BentoCache 1.6: getOrSet({ key, factory }) hit (serialize: false)';
// Counts its calls: a memoizer's hit loop must never run it (every key is pre-filled).
let peerLoads = 0;
const peerLoader = async () => {
  peerLoads++;
  return PAYLOAD;
};

const l1Variants: Variant[] = [
  {
    name: OURS_GET,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) if ((await ours.get(KEYS[i & MASK]!)) !== undefined) hits++;
      return hits;
    },
  },
  {
    name: OURS_DECORATOR,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++)
        if ((await service.getProduct(IDS[i & MASK]!)) !== undefined) hits++;
      return hits;
    },
  },
  {
    name: OURS_FUNCTION,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) if ((await getProduct(IDS[i & MASK]!)) !== undefined) hits++;
      return hits;
    },
  },
  {
    name: RAW_LRU,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) if ((await lru.get(KEYS[i & MASK]!)) !== undefined) hits++;
      return hits;
    },
  },
  {
    name: BENTO_REF,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) {
        if ((await bentoRef.get({ key: KEYS[i & MASK]! })) !== undefined) hits++;
      }
      return hits;
    },
  },
  {
    name: BENTO_JSON,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) {
        if ((await bentoJson.get({ key: KEYS[i & MASK]! })) !== undefined) hits++;
      }
      return hits;
    },
  },
  {
    name: MANAGER,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) if ((await manager.get(KEYS[i & MASK]!)) !== undefined) hits++;
      return hits;
    },
  },
  {
    name: MANAGER_WRAP,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) {
        if ((await manager.wrap(KEYS[i & MASK]!, peerLoader, HOUR_MS)) !== undefined) hits++;
      }
      return hits;
    },
  },
  {
    name: BENTO_GET_OR_SET,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) {
        const value = await bentoRef.getOrSet({
          key: KEYS[i & MASK]!,
          factory: peerLoader,
          ttl: '1h',
        });
        if (value !== undefined) hits++;
      }
      return hits;
    },
  },
];

async function l1(): Promise<void> {
  const samples = await measure(l1Variants, ROUNDS, L1_OPS, Math.min(L1_OPS, 50_000));
  if (service.loads !== KEY_COUNT || functionLoads !== KEY_COUNT) {
    throw new Error('a @Cached read ran the method during the timed loops');
  }
  if (peerLoads !== 0) throw new Error(`a peer's wrap/getOrSet missed ${peerLoads} times`);
  const ns = (name: string) => median(samples.get(name)!);
  const mine = ns(OURS_GET);
  console.log(
    `## 1. L1 hit (${ROUNDS} rounds x ${L1_OPS} sequential awaited gets, median round)\n`,
  );
  console.log('| variant | ns/op | IQR ns/op | relative to ours `cache.get` |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const v of l1Variants) {
    const xs = samples.get(v.name)!;
    const m = median(xs);
    console.log(
      `| ${v.name} | ${m.toFixed(0)} | ${quantile(xs, 0.25).toFixed(0)}–${quantile(xs, 0.75).toFixed(0)} | ${(m / mine).toFixed(2)}x |`,
    );
  }
  const ratio = (theirs: string, of: string) => pairedRatio(samples, theirs, of);
  const overLru = pairedDifference(samples, OURS_GET, RAW_LRU);
  const rows: [string, number, string][] = [
    ['ours vs BentoCache (serialize: false, like for like)', ratio(BENTO_REF, OURS_GET), 'factor'],
    ['ours vs BentoCache (its default, serialize)', ratio(BENTO_JSON, OURS_GET), 'factor'],
    ['ours vs cache-manager 7', ratio(MANAGER, OURS_GET), 'factor'],
    ['ours `cache.get` minus raw `await lru.get`', overLru, 'lru'],
    [
      '`@Cached` method minus raw `await lru.get`',
      pairedDifference(samples, OURS_DECORATOR, RAW_LRU),
      'none-ns',
    ],
    [
      '`@Cached` method vs BentoCache `getOrSet` (serialize: false)',
      ratio(BENTO_GET_OR_SET, OURS_DECORATOR),
      'factor',
    ],
    ['`@Cached` method vs cache-manager 7 `wrap`', ratio(MANAGER_WRAP, OURS_DECORATOR), 'factor'],
    [
      '`@Cached` method vs BentoCache `get` (serialize: false)',
      ratio(BENTO_REF, OURS_DECORATOR),
      'none',
    ],
    ['`@Cached` method vs cache-manager 7 `get`', ratio(MANAGER, OURS_DECORATOR), 'none'],
  ];
  console.log(
    '\nComparisons: median over the rounds of the ratio (or difference) within each round.\n',
  );
  console.log('| comparison | figure | goal |');
  console.log('| --- | ---: | --- |');
  for (const [what, value, kind] of rows) {
    let figure: string;
    let goal: string;
    if (kind === 'factor') {
      figure = speed(value);
      goal = `≥ ${GOAL_L1_FACTOR}x faster: ${verdict(value >= GOAL_L1_FACTOR)}`;
    } else if (kind === 'lru') {
      figure = `${value.toFixed(0)} ns`;
      goal = `≤ ${GOAL_L1_OVER_LRU_NS} ns: ${verdict(value <= GOAL_L1_OVER_LRU_NS)}`;
    } else {
      figure = kind === 'none-ns' ? `${value.toFixed(0)} ns` : speed(value);
      goal = '(no goal)';
    }
    console.log(`| ${what} | ${figure} | ${goal} |`);
  }
  console.log('');
}

// ---- 2. L2 hit ----

const OURS_L2 = 'ours: Redis tier only, await cache.get(key)';
const RAW_L2 = 'raw ioredis getBuffer + CacheCodec.decode';
const RAW_L2_BARE = 'raw ioredis getBuffer alone (reference)';
const OURS_TIER = 'ours: RedisTier.get + decode, no engine (reference)';
const BENTO_L2 = 'BentoCache 1.6 Redis driver only';

const l2Variants: Variant[] = [
  {
    name: OURS_L2,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) if ((await oursL2.get(KEYS[i & MASK]!)) !== undefined) hits++;
      return hits;
    },
  },
  {
    name: RAW_L2,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) {
        const key = KEYS[i & MASK]!;
        const bytes = await rawClient.getBuffer(rawKey(key));
        if (bytes !== null && codec.decode(bytes, associated(key)) !== undefined) hits++;
      }
      return hits;
    },
  },
  {
    name: RAW_L2_BARE,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++)
        if ((await rawClient.getBuffer(rawKey(KEYS[i & MASK]!))) !== null) hits++;
      return hits;
    },
  },
  {
    name: OURS_TIER,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) {
        const key = KEYS[i & MASK]!;
        const entry = await oursTier.get(NAMESPACE, key);
        if (
          entry !== undefined &&
          codec.decodeEntry(entry.payload, NAMESPACE, key, entry) !== undefined
        )
          hits++;
      }
      return hits;
    },
  },
  {
    name: BENTO_L2,
    run: async (ops) => {
      let hits = 0;
      for (let i = 0; i < ops; i++) {
        if ((await bentoL2.get({ key: KEYS[i & MASK]! })) !== undefined) hits++;
      }
      return hits;
    },
  },
];

/** One read of each L2 variant, for the op-by-op interleaved measurement. */
const l2Ops: { name: string; op: (i: number) => Promise<boolean> }[] = [
  { name: OURS_L2, op: async (i) => (await oursL2.get(KEYS[i & MASK]!)) !== undefined },
  {
    name: RAW_L2,
    op: async (i) => {
      const key = KEYS[i & MASK]!;
      const bytes = await rawClient.getBuffer(rawKey(key));
      return bytes !== null && codec.decode(bytes, associated(key)) !== undefined;
    },
  },
  {
    name: OURS_TIER,
    op: async (i) => {
      const key = KEYS[i & MASK]!;
      const entry = await oursTier.get(NAMESPACE, key);
      return (
        entry !== undefined && codec.decodeEntry(entry.payload, NAMESPACE, key, entry) !== undefined
      );
    },
  },
];

/**
 * The same reads interleaved op by op (one of each variant in turn, rotating which goes first),
 * each timed on its own: the machine's state, which on a shared virtual machine moves between one
 * round and the next, is then the same for every variant. Returns µs per read of each variant.
 */
async function interleavedL2(ops: number): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>(l2Ops.map((v) => [v.name, []]));
  for (let i = 0; i < ops + 1_000; i++) {
    for (let j = 0; j < l2Ops.length; j++) {
      const v = l2Ops[(i + j) % l2Ops.length]!;
      const start = performance.now();
      if (!(await v.op(i))) throw new Error(`${v.name}: a miss in the interleaved loop`);
      if (i >= 1_000) times.get(v.name)!.push((performance.now() - start) * 1000);
    }
  }
  return times;
}

async function l2(): Promise<void> {
  const samples = await measure(l2Variants, L2_ROUNDS, L2_OPS, Math.min(L2_OPS, 1_000));
  const us = (name: string) => median(samples.get(name)!) / 1000;
  const raw = us(RAW_L2);
  console.log(
    `## 2. L2 hit, no L1 (${L2_ROUNDS} rounds x ${L2_OPS} sequential awaited gets, median round)\n`,
  );
  console.log('| variant | µs/op | IQR µs/op | relative to raw GET+decode |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const v of l2Variants) {
    const xs = samples.get(v.name)!;
    console.log(
      `| ${v.name} | ${us(v.name).toFixed(1)} | ${(quantile(xs, 0.25) / 1000).toFixed(1)}–${(quantile(xs, 0.75) / 1000).toFixed(1)} | ${(us(v.name) / raw).toFixed(2)}x |`,
    );
  }
  const over = pairedRatio(samples, OURS_L2, RAW_L2) - 1;
  const extraNs = pairedDifference(samples, OURS_L2, RAW_L2);
  console.log(
    '\nComparisons: median over the rounds of the ratio (or difference) within each round.\n',
  );
  console.log('| comparison | figure | goal |');
  console.log('| --- | ---: | --- |');
  console.log(
    `| ours vs raw GET+decode | ${over >= 0 ? '+' : ''}${(over * 100).toFixed(1)}% (${(extraNs / 1000).toFixed(1)} µs) | ≤ +${GOAL_L2_OVER_RAW * 100}%: ${verdict(over <= GOAL_L2_OVER_RAW)} |`,
  );
  console.log(
    `| ours vs BentoCache Redis driver | ${speed(pairedRatio(samples, BENTO_L2, OURS_L2))} | (no goal) |`,
  );
  const interleaved = await interleavedL2(L2_ROUNDS * L2_OPS);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    `\nThe same reads interleaved op by op (${L2_ROUNDS * L2_OPS} reads of each, one of each in turn, each timed):\n`,
  );
  console.log('| variant | mean µs/op | median µs/op | p90 µs/op |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, xs] of interleaved) {
    console.log(
      `| ${name} | ${mean(xs).toFixed(1)} | ${median(xs).toFixed(1)} | ${quantile(xs, 0.9).toFixed(1)} |`,
    );
  }
  const ours = interleaved.get(OURS_L2)!;
  const rawTimes = interleaved.get(RAW_L2)!;
  const overMean = mean(ours) / mean(rawTimes) - 1;
  const overMedian = median(ours) / median(rawTimes) - 1;
  console.log('\n| comparison | figure | goal |');
  console.log('| --- | ---: | --- |');
  console.log(
    `| ours vs raw GET+decode, interleaved, mean | ${overMean >= 0 ? '+' : ''}${(overMean * 100).toFixed(1)}% (${(mean(ours) - mean(rawTimes)).toFixed(1)} µs) | ≤ +${GOAL_L2_OVER_RAW * 100}%: ${verdict(overMean <= GOAL_L2_OVER_RAW)} |`,
  );
  console.log(
    `| ours vs raw GET+decode, interleaved, median | ${overMedian >= 0 ? '+' : ''}${(overMedian * 100).toFixed(1)}% (${(median(ours) - median(rawTimes)).toFixed(1)} µs) | ≤ +${GOAL_L2_OVER_RAW * 100}%: ${verdict(overMedian <= GOAL_L2_OVER_RAW)} |`,
  );
  console.log('');
}

// ---- 3. Stampede ----

type Caller = (key: string, loader: () => Promise<typeof PAYLOAD>) => Promise<unknown>;

const stampedes: { name: string; call: Caller }[] = [
  {
    name: 'ours getOrSet (memory tier)',
    call: (key, loader) => ours.getOrSet(key, loader, { ttl: '1h' }),
  },
  {
    name: 'ours getOrSet (Redis tier only)',
    call: (key, loader) => oursL2.getOrSet(key, loader, { ttl: '1h' }),
  },
  {
    name: 'BentoCache getOrSet (memory driver)',
    call: (key, loader) => bentoRef.getOrSet({ key, factory: loader, ttl: '1h' }),
  },
  {
    name: 'BentoCache getOrSet (Redis driver only)',
    call: (key, loader) => bentoL2.getOrSet({ key, factory: loader, ttl: '1h' }),
  },
  { name: 'cache-manager 7 wrap', call: (key, loader) => manager.wrap(key, loader, HOUR_MS) },
];

async function stampede(): Promise<void> {
  console.log(
    `## 3. Stampede: ${CALLERS} concurrent callers of one missing key, loader of ${LOADER_MS} ms (${TRIALS} trials, a fresh key each)\n`,
  );
  console.log('| library | loader calls per trial | wall ms (median) | wall ms (min–max) |');
  console.log('| --- | --- | ---: | ---: |');
  for (let s = 0; s < stampedes.length; s++) {
    const { name, call } = stampedes[s]!;
    const calls: number[] = [];
    const walls: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const key = `stampede:${s}:${trial}`;
      let loads = 0;
      const loader = async () => {
        loads++;
        await sleep(LOADER_MS);
        return PAYLOAD;
      };
      const start = performance.now();
      const results = await Promise.all(Array.from({ length: CALLERS }, () => call(key, loader)));
      walls.push(performance.now() - start);
      calls.push(loads);
      const missing = results.filter((r) => r === undefined || r === null).length;
      if (missing > 0) throw new Error(`${name}: ${missing} callers got no value`);
    }
    console.log(
      `| ${name} | ${calls.join(', ')} | ${median(walls).toFixed(1)} | ${Math.min(...walls).toFixed(1)}–${Math.max(...walls).toFixed(1)} |`,
    );
  }
  console.log('');
}

// ---- run ----

async function cleanup(): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await adminClient.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
    if (keys.length > 0) deleted += await adminClient.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

async function main(): Promise<void> {
  const server = await adminClient.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(server)?.[1] ?? 'unknown';
  const cpus = os.cpus();
  const json = JSON.stringify(PAYLOAD);
  console.log('# cache benchmark\n');
  console.log(
    `node ${process.version} (${process.platform} ${os.release()} ${process.arch}), ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
  );
  console.log(
    `redis ${redisVersion} at ${REDIS_URL.replace(/\/\/[^@]*@/, '//')}; lru-cache ${version('lru-cache')}, bentocache ${version('bentocache')}, cache-manager ${version('cache-manager')}, keyv ${version('keyv')}, ioredis ${version('ioredis')}`,
  );
  console.log(
    `payload: ${json.length} bytes of JSON, ${codec.encode(PAYLOAD, associated(KEYS[0]!)).length} bytes encoded by CacheCodec; ${KEY_COUNT} keys read round-robin; Redis prefix ${PREFIX}`,
  );
  console.log(
    `command: BENCH_ROUNDS=${ROUNDS} BENCH_L1_OPS=${L1_OPS} BENCH_L2_ROUNDS=${L2_ROUNDS} BENCH_L2_OPS=${L2_OPS} BENCH_STAMPEDE_CALLERS=${CALLERS} BENCH_STAMPEDE_TRIALS=${TRIALS} BENCH_LOADER_MS=${LOADER_MS} npx tsx bench/cache.bench.ts  (npm run bench:cache uses the defaults)\n`,
  );
  const started = performance.now();
  await prefill();
  await l1();
  await l2();
  await stampede();
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const [text, count] of warnings) console.log(`process warning (x${count}): ${text}`);
}

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  const deleted = await cleanup().catch((error) => {
    console.error('cleanup failed', error);
    return 0;
  });
  console.log(`deleted ${deleted} Redis keys under ${PREFIX}:*`);
  await Promise.allSettled([
    ours.close(),
    oursL2.close(),
    bentoRef.disconnectAll(),
    bentoJson.disconnectAll(),
    bentoL2.disconnectAll(),
    manager.disconnect(),
  ]);
  await Promise.allSettled([oursClient.quit(), rawClient.quit(), adminClient.quit()]);
  if (failed) process.exitCode = 1;
}
