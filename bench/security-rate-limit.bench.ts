/**
 * npm run bench:security:rate-limit (npm run bench:security runs every bench/security*.bench.ts)
 *
 * Our rate limiter beside rate-limiter-flexible 11, in one process, on the same data:
 *
 * - stores: memory (`createRateLimiter({ store: 'memory' })` / `RateLimiterMemory`) and Redis
 *   (`createRateLimiter({ redis: client })` / `RateLimiterRedis({ storeClient: client })`, each
 *   given its own ioredis client with default options; ours also with `redisUrl`, its own
 *   fail-fast client with a command timeout);
 * - keys: one key, and 10,000 keys visited in a fixed shuffled order;
 * - one decision per call, awaited one at a time (sequential) and with 50 calls in flight;
 * - limit 100 per second for both (ours GCRA, the default; theirs a fixed window of 1 s).
 *
 * For Redis, the floor: a bare EVALSHA loop of a trivial script of the same shape (one key, three
 * arguments, a reply of four integers) on the same kind of client at the same concurrency: what
 * one round trip per decision allows.
 *
 * Each scenario runs BENCH_WARMUP_ROUNDS unmeasured rounds, then BENCH_ROUNDS measured rounds in
 * which the variants take turns going first. Decisions/s is the median round; the ratio is the
 * median (and range) of the ratios measured within each round. CPU per decision: this process's
 * over the measured window, and Redis' (server-wide, INFO) for the Redis scenarios.
 *
 * Exactness, for both libraries and both stores: (1) a burst far above the limit on 10 keys, 50
 * calls in flight, all inside one window of each library (limit 100 per hour): exactly 100 admitted
 * per key; (2) one key at full speed for BENCH_EXACT_MS with 100 per second: never more admitted
 * than the library's own bound (GCRA: 100 + elapsed × 100/s; fixed windows: 100 per window begun).
 *
 * Environment: BENCH_ROUNDS (5), BENCH_WARMUP_ROUNDS (1), BENCH_MEMORY_CALLS (200000 per round),
 * BENCH_REDIS_CALLS (20000 per round), BENCH_EXACT_MS (3000), BENCH_ONLY (scenarios whose title
 * contains it), REDIS_URL (redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { luaScript } from '../src/redis/scripts.js';
import { createRateLimiter, type RateLimiter } from '../src/security/rate-limit/index.js';

const ROUNDS = intFromEnv('BENCH_ROUNDS', 5);
const WARMUP_ROUNDS = intFromEnv('BENCH_WARMUP_ROUNDS', 1, 0);
const MEMORY_CALLS = intFromEnv('BENCH_MEMORY_CALLS', 200_000);
const REDIS_CALLS = intFromEnv('BENCH_REDIS_CALLS', 20_000);
const EXACT_MS = intFromEnv('BENCH_EXACT_MS', 3_000);
const ONLY = process.env.BENCH_ONLY;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN = randomBytes(4).toString('hex');
const PREFIX = `bench:rl:${RUN}`;
const LIMIT = 100;
const CONCURRENCY = 50;
/** Goal: at least this many times rate-limiter-flexible's decisions per second. */
const GOAL = 1.5;

const KEYS = (() => {
  // 10,000 keys in a fixed shuffled order (a multiplicative step coprime with 10,000).
  const keys = Array.from({ length: 10_000 }, (_, i) => `198.51.${i >> 8}.${i & 255}`);
  return Array.from({ length: 10_000 }, (_, i) => keys[(i * 7_919) % 10_000]!);
})();

/** One decision: resolves true when admitted. Both libraries are wrapped the same way. */
type Decide = (key: string) => Promise<boolean>;

interface Variant {
  name: string;
  decide: Decide;
}

interface Figures {
  rate: number;
  nodeCpuUs: number;
  redisCpuUs?: number;
}

let statsClient: Redis | undefined;
async function redisCpuUs(): Promise<number> {
  statsClient ??= new Redis(REDIS_URL);
  const info = await statsClient.info('cpu');
  const read = (field: string) => Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (read('used_cpu_user') + read('used_cpu_sys')) * 1e6;
}

/** `calls` decisions, `concurrency` in flight, keys from `keys` in turn. */
async function drive(
  decide: Decide,
  calls: number,
  concurrency: number,
  keys: readonly string[],
): Promise<number> {
  let next = 0;
  let admitted = 0;
  const worker = async () => {
    while (next < calls) {
      const key = keys[next++ % keys.length]!;
      if (await decide(key)) admitted += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return admitted;
}

async function measure(
  variant: Variant,
  calls: number,
  concurrency: number,
  keys: readonly string[],
  redis: boolean,
): Promise<Figures> {
  const redisBefore = redis ? await redisCpuUs() : 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await drive(variant.decide, calls, concurrency, keys);
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const figures: Figures = {
    rate: (calls / elapsed) * 1_000,
    nodeCpuUs: (cpu.user + cpu.system) / calls,
  };
  if (redis) figures.redisCpuUs = ((await redisCpuUs()) - redisBefore) / calls;
  return figures;
}

const rlfDecide =
  (limiter: RateLimiterMemory | RateLimiterRedis): Decide =>
  (key) =>
    limiter.consume(key).then(
      () => true,
      (refusal: RateLimiterRes | Error) => {
        if (refusal instanceof Error) throw refusal;
        return false;
      },
    );

const oursDecide =
  (limiter: RateLimiter): Decide =>
  (key) =>
    limiter.consume(key).then((decision) => decision.allowed);

/** The floor: the same shape of script and call, doing nothing. */
const TRIVIAL = luaScript(
  'local _ = KEYS[1] return {1, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])}',
);

interface Scenario {
  title: string;
  store: 'memory' | 'redis';
  keys: readonly string[];
  concurrency: number;
}

interface Row {
  scenario: Scenario;
  median: Record<string, Figures>;
  ratios: number[];
  urlRatios: number[];
  floorRatios: number[];
}

const SCENARIOS: Scenario[] = (['memory', 'redis'] as const).flatMap((store) =>
  [
    { keys: ['203.0.113.7'], label: 'one key' },
    { keys: KEYS, label: '10,000 keys' },
  ].flatMap(({ keys, label }) =>
    [1, CONCURRENCY].map((concurrency) => ({
      title: `${store}, ${label}, ${concurrency === 1 ? 'sequential' : `concurrency ${concurrency}`}`,
      store,
      keys,
      concurrency,
    })),
  ),
);

async function variantsFor(
  store: 'memory' | 'redis',
  tag: string,
  clients: Redis[],
): Promise<{ variants: Variant[]; close(): Promise<void> }> {
  const window = { limit: LIMIT, window: '1s' as const };
  if (store === 'memory') {
    const ours = createRateLimiter({ ...window, store: 'memory' });
    const rlf = new RateLimiterMemory({ points: LIMIT, duration: 1 });
    return {
      variants: [
        { name: 'rate-limiter-flexible', decide: rlfDecide(rlf) },
        { name: 'ours', decide: oursDecide(ours) },
      ],
      close: () => ours.close(),
    };
  }
  const [forOurs, forTheirs, forFloor] = clients as [Redis, Redis, Redis];
  const ours = createRateLimiter({ ...window, redis: forOurs, prefix: `${PREFIX}:ours:${tag}` });
  const oursUrl = createRateLimiter({
    ...window,
    redisUrl: REDIS_URL,
    prefix: `${PREFIX}:url:${tag}`,
  });
  const rlf = new RateLimiterRedis({
    storeClient: forTheirs,
    points: LIMIT,
    duration: 1,
    keyPrefix: `${PREFIX}:rlf:${tag}`,
  });
  await forFloor.script('LOAD', TRIVIAL.source);
  const floor: Decide = (key) =>
    (forFloor.evalsha(TRIVIAL.sha, 1, key, LIMIT, 1_000_000, 1) as Promise<number[]>).then(
      (reply) => reply[0] === 1,
    );
  return {
    variants: [
      { name: 'rate-limiter-flexible', decide: rlfDecide(rlf) },
      { name: 'ours', decide: oursDecide(ours) },
      { name: 'ours (redisUrl)', decide: oursDecide(oursUrl) },
      { name: 'floor', decide: floor },
    ],
    close: async () => {
      await ours.close();
      await oursUrl.close();
    },
  };
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function runScenario(scenario: Scenario, clients: Redis[], index: number): Promise<Row> {
  const redis = scenario.store === 'redis';
  const calls = redis ? REDIS_CALLS : MEMORY_CALLS;
  const { variants, close } = await variantsFor(scenario.store, String(index), clients);
  const rounds: Record<string, Figures>[] = [];
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    const figures: Record<string, Figures> = {};
    for (const variant of order) {
      figures[variant.name] = await measure(
        variant,
        calls,
        scenario.concurrency,
        scenario.keys,
        redis,
      );
    }
    if (round >= WARMUP_ROUNDS) rounds.push(figures);
  }
  await close();
  const median: Record<string, Figures> = {};
  for (const { name } of variants) {
    const of = (pick: (f: Figures) => number | undefined) =>
      medianOf(rounds.map((r) => pick(r[name]!) ?? 0));
    median[name] = {
      rate: of((f) => f.rate),
      nodeCpuUs: of((f) => f.nodeCpuUs),
      ...(redis ? { redisCpuUs: of((f) => f.redisCpuUs) } : {}),
    };
  }
  const ratio = (a: string, b: string) => rounds.map((r) => r[a]!.rate / r[b]!.rate);
  return {
    scenario,
    median,
    ratios: ratio('ours', 'rate-limiter-flexible'),
    urlRatios: redis ? ratio('ours (redisUrl)', 'rate-limiter-flexible') : [],
    floorRatios: redis ? ratio('rate-limiter-flexible', 'floor') : [],
  };
}

interface Exactness {
  library: string;
  store: string;
  burst: number[];
  saturated: { admitted: number; bound: number; elapsedMs: number };
}

/** The two exactness checks of one library on one store. */
async function exactness(
  library: 'ours' | 'rate-limiter-flexible',
  store: 'memory' | 'redis',
  client: Redis,
): Promise<Exactness> {
  const make = (limit: number, seconds: number, tag: string): Decide => {
    if (library === 'ours') {
      return oursDecide(
        createRateLimiter({
          limit,
          window: seconds,
          ...(store === 'redis'
            ? { redis: client, prefix: `${PREFIX}:exact:ours:${tag}` }
            : { store: 'memory' as const }),
        }),
      );
    }
    return rlfDecide(
      store === 'redis'
        ? new RateLimiterRedis({
            storeClient: client,
            points: limit,
            duration: seconds,
            keyPrefix: `${PREFIX}:exact:rlf:${tag}`,
          })
        : new RateLimiterMemory({ points: limit, duration: seconds }),
    );
  };
  // (1) 10 keys, 1,000 calls each, 50 in flight, limit 100 per hour.
  const burstDecide = make(LIMIT, 3_600, 'burst');
  const burst: number[] = [];
  for (let k = 0; k < 10; k++) {
    burst.push(await drive(burstDecide, 1_000, CONCURRENCY, [`burst-${k}`]));
  }
  // (2) one key at full speed for EXACT_MS, limit 100 per second.
  const saturatedDecide = make(LIMIT, 1, 'saturated');
  let admitted = 0;
  const started = performance.now();
  const deadline = started + EXACT_MS;
  const worker = async () => {
    while (performance.now() < deadline) if (await saturatedDecide('hot')) admitted += 1;
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsedMs = performance.now() - started;
  // GCRA: a full bucket, then the rate. Fixed windows: the limit in each window begun.
  const bound =
    library === 'ours'
      ? LIMIT + Math.floor((elapsedMs * LIMIT) / 1_000) + 1
      : LIMIT * Math.ceil(elapsedMs / 1_000 + 1e-9);
  return { library, store, burst, saturated: { admitted, bound, elapsedMs } };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const range = (values: number[]) =>
  values.length === 0
    ? '-'
    : `${medianOf(values).toFixed(2)}x (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;

async function main(): Promise<void> {
  const clients = [new Redis(REDIS_URL), new Redis(REDIS_URL), new Redis(REDIS_URL)];
  const scenarios = SCENARIOS.filter((s) => ONLY === undefined || s.title.includes(ONLY));
  console.log(
    `bench:security rate limit — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cpus, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(
        ' ',
      )}; rounds ${ROUNDS} (+${WARMUP_ROUNDS} warm-up), ${fmt(MEMORY_CALLS)} memory / ${fmt(REDIS_CALLS)} Redis decisions per round`,
  );
  const rows: Row[] = [];
  for (const [index, scenario] of scenarios.entries()) {
    const row = await runScenario(scenario, clients, index);
    rows.push(row);
    const m = row.median;
    const parts = Object.entries(m).map(
      ([name, f]) =>
        `${name} ${fmt(f.rate)}/s (${f.nodeCpuUs.toFixed(1)} µs node${f.redisCpuUs === undefined ? '' : ` + ${f.redisCpuUs.toFixed(1)} µs redis`})`,
    );
    console.log(`  ${scenario.title}: ${parts.join(', ')}; ours/rlf ${range(row.ratios)}`);
  }

  console.log(
    '\n| scenario | rate-limiter-flexible decisions/s | ours decisions/s | ours / rlf, per round: median (min–max) | ours (redisUrl) / rlf | floor (bare EVALSHA) decisions/s | rlf / floor |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    const m = row.median;
    console.log(
      `| ${row.scenario.title} | ${fmt(m['rate-limiter-flexible']!.rate)} | ${fmt(m.ours!.rate)} | ${range(row.ratios)} | ${range(row.urlRatios)} | ${m.floor ? fmt(m.floor.rate) : '-'} | ${range(row.floorRatios)} |`,
    );
  }

  console.log(
    '\nExactness (burst: admitted per key of 1,000 calls, limit 100 per hour; saturated: one key, limit 100/s):',
  );
  let exact = true;
  if (ONLY === undefined || 'exactness'.includes(ONLY) || ONLY === 'exact') {
    for (const store of ['memory', 'redis'] as const) {
      for (const library of ['rate-limiter-flexible', 'ours'] as const) {
        const e = await exactness(library, store, clients[0]!);
        const burstOk = e.burst.every((n) => n === LIMIT);
        const saturatedOk = e.saturated.admitted <= e.saturated.bound;
        exact &&= burstOk && saturatedOk;
        console.log(
          `  ${library}, ${store}: burst ${burstOk ? 'exact' : `NOT EXACT ${e.burst.join(',')}`}; saturated ${fmt(e.saturated.admitted)} admitted in ${fmt(e.saturated.elapsedMs)} ms, bound ${fmt(e.saturated.bound)}: ${saturatedOk ? 'within' : 'OVER'}`,
        );
      }
    }
  }

  console.log(`\nGoal: ours ≥ ${GOAL}x rate-limiter-flexible's decisions/s`);
  for (const row of rows) {
    const ratio = medianOf(row.ratios);
    const floor = row.median.floor;
    const ceiling = floor ? floor.rate / row.median['rate-limiter-flexible']!.rate : undefined;
    const verdict =
      ratio >= GOAL
        ? 'met'
        : ceiling !== undefined && ceiling < GOAL
          ? `not met; ruled out by the floor (a bare EVALSHA is ${ceiling.toFixed(2)}x rlf)`
          : 'not met';
    console.log(`  ${row.scenario.title}: ${ratio.toFixed(2)}x — ${verdict}`);
  }
  if (!exact) process.exitCode = 1;

  // Our keys and theirs, and the floor's (none: it writes nothing).
  const admin = clients[0]!;
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await admin.del(...keys);
  } while (cursor !== '0');
  await Promise.all([...clients, ...(statsClient ? [statsClient] : [])].map((c) => c.quit()));
}

function intFromEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name}=${raw}: expected a whole number of at least ${min}`);
  return value;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
