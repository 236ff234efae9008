/**
 * npm run bench:service [-- --quick]
 *
 * A real service beside the stack a team would otherwise assemble (issue 22): the catalogue API
 * of bench/service/ — `GET /products/:id` read through a cache (memory in front of Redis, one
 * hour), `GET /categories/:id/products?page=` (a cached list, one tag per category),
 * `PUT /products/:id` (PostgreSQL, then the product and its category's tag invalidated) and
 * `POST /orders` (PostgreSQL, then a `send_confirmation` task run by a worker process) — in three
 * implementations, each an HTTP process (and a worker process) of its own:
 *
 * - ours (ours.ts): @revcopy/enterprise, Fastify plugin, `@Cached`, `@MonitorPerformance`,
 *   `submitTask` on Redis, `@BackgroundTask`, the monitoring router;
 * - peers (peers.ts): Fastify's pino logger, prom-client, BentoCache, BullMQ;
 * - bound (bound.ts): a `Map` cache, no instrumentation, no Redis: the most any stack can do.
 *
 * It seeds 100,000 products in 50 categories (tables of its own in the `test` database), then,
 * variants interleaved round after round (a different one first each round): throughput at
 * saturation (autocannon, 50 connections, the mix of workload.ts with Zipf popularity), then the
 * latency at a fixed rate of half the peers' saturation throughput from an open-loop generator
 * (open-loop.ts). `/metrics` is scraped every second during every measurement. It reports CPU per
 * request of the HTTP process and per task of the worker (`process.cpuUsage()` of each child),
 * RSS at the end, tasks per second and submit → done latency; then, on hello-world Fastify and
 * Express apps (hello-apps.ts), the CPU per request the middlewares add beyond bare. It prints
 * one table per part, the goals and a JSON summary, and deletes its tables and Redis keys.
 *
 * `--quick`: one short round of each part (about a minute). Environment: BENCH_ROUNDS (3; quick
 * 1), BENCH_PARTS (`service,hello`), BENCH_HELLO_REQUESTS (30,000; quick 10,000),
 * BENCH_HELLO_RATE (unset: saturated), BENCH_HELLO_WARM (seconds of warm-up per process; 5, quick
 * 3), BENCH_VARIANTS (`ours,bound`: which run beside the peers), BENCH_BASELINE_DIST (the `dist/`
 * of an earlier commit, run as the `baseline` variant), BENCH_OURS_FROM (`dist` when the build is
 * newer than the sources, else `src`; see ours-library.ts), DATABASE_URL
 * (postgres://postgres@127.0.0.1:5432/test), REDIS_URL (redis://127.0.0.1:6379). For diagnosis:
 * BENCH_SOCKET_WRITES (socket writes per request by destination), BENCH_CPU_PROF (a child's name,
 * e.g. `service-ours-http`: its CPU profile) and BENCH_KEEP_LOGS (keeps the children's logs).
 */
import { type ChildProcess, execSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { dropTables, PRODUCTS, seed } from './catalogue-db.js';
import type { ChildFigures } from './child.js';
import {
  HELLO_VARIANTS,
  type HelloFramework,
  type HelloVariant,
  type ServiceConfig,
} from './contract.js';
import { openLoop, quantile } from './open-loop.js';
import { type ServiceRequest, workload } from './workload.js';

const QUICK = process.argv.includes('--quick');
const OURS_FROM = oursFrom();
process.env.BENCH_OURS_FROM = OURS_FROM; // read by ours-library.ts in the children

/**
 * `dist` when the build is at least as new as every source file (users run the build; see
 * ours-library.ts), else `src`; BENCH_OURS_FROM chooses.
 */
function oursFrom(): 'dist' | 'src' {
  const chosen = process.env.BENCH_OURS_FROM;
  if (chosen === 'dist' || chosen === 'src') return chosen;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const built = join(root, 'dist/index.js');
  if (!existsSync(built)) return 'src';
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
        entry.isDirectory()
          ? newest(join(dir, entry.name))
          : statSync(join(dir, entry.name)).mtimeMs,
      ),
    );
  return statSync(built).mtimeMs >= newest(join(root, 'src')) ? 'dist' : 'src';
}
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const S = QUICK
  ? { warm: 2, satWarm: 0.5, sat: 2, latWarm: 0.5, lat: 3, helloWarm: 3 }
  : { warm: 5, satWarm: 1, sat: 5, latWarm: 1, lat: 8, helloWarm: 5 };
/** `BENCH_PARTS=service` or `hello` runs one part only (for diagnosis; the goals need both). */
const PARTS = (process.env.BENCH_PARTS ?? 'service,hello').split(',');
const CONNECTIONS = 50;
/** Requests per second of the hello-world measurements when set (open loop); else saturated. */
const HELLO_RATE =
  process.env.BENCH_HELLO_RATE === undefined ? undefined : Number(process.env.BENCH_HELLO_RATE);
/** Requests of each hello-world window. */
const HELLO_REQUESTS = Number(process.env.BENCH_HELLO_REQUESTS ?? (QUICK ? 10_000 : 30_000));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN = randomBytes(4).toString('hex');
/**
 * `baseline`: ours.ts on another build of the library, in the directory BENCH_BASELINE_DIST (the
 * `dist/` of an earlier commit), beside ours in the same run: what a change in src/ did.
 */
const BASELINE_DIST = process.env.BENCH_BASELINE_DIST;
const ALL_VARIANTS = ['ours', 'peers', 'bound', 'baseline'] as const;
type Variant = (typeof ALL_VARIANTS)[number];
/** `BENCH_VARIANTS=peers,bound` runs some of them only (for diagnosis; the peers always run). */
const VARIANTS = ALL_VARIANTS.filter(
  (variant) =>
    variant === 'peers' ||
    (variant === 'baseline'
      ? BASELINE_DIST !== undefined
      : (process.env.BENCH_VARIANTS ?? 'ours,bound').split(',').includes(variant)),
);

/** The issue's goals. */
const GOALS = {
  throughput: 1.3,
  p99: 0.8,
  rssMb: 30,
  helloExpress: 0.6,
  helloFastify: 1.0,
};

// --- processes -------------------------------------------------------------------------------

interface Child {
  process: ChildProcess;
  port?: number;
  metrics?: { path: string; headers?: Record<string, string> };
}

let requestIds = 0;

/** Where each child's stdout (its log lines) goes, read at the end for the errors it logged. */
const LOG_DIR = mkdtempSync(join(os.tmpdir(), 'bench-service-'));
const logFiles = new Map<string, string>();

function startChild(
  args: string[],
  config?: ServiceConfig,
  env: Record<string, string> = {},
): Promise<Child> {
  const name = args.join('-');
  const logFile = join(LOG_DIR, `${name}.log`);
  logFiles.set(name, logFile);
  const out = openSync(logFile, 'w');
  // BENCH_CPU_PROF=<name> (e.g. service-ours-http) writes that child's CPU profile on its exit.
  const profile =
    process.env.BENCH_CPU_PROF === name
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR ?? LOG_DIR}`]
      : [];
  const child = fork(fileURLToPath(new URL('./child.ts', import.meta.url)), args, {
    // stdout to a file: the log lines are written as in production, and the errors are kept.
    stdio: ['ignore', out, 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...profile],
    env: { ...process.env, ...env, BENCH_SERVICE_CONFIG: JSON.stringify(config ?? {}) },
  });
  closeSync(out);
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`${args.join(' ')} exited with ${code}`));
    child.once('error', reject);
    child.once('exit', onExit);
    child.once('message', (message: { port?: number; metrics?: Child['metrics'] }) => {
      child.off('exit', onExit);
      resolve({ process: child, port: message.port, metrics: message.metrics });
    });
  });
}

function ask<T>(child: Child, type: 'figures' | 'stop'): Promise<T> {
  const id = ++requestIds;
  return new Promise((resolve) => {
    const onMessage = (message: { id?: number } & Record<string, unknown>) => {
      if (message.id !== id) return;
      child.process.off('message', onMessage);
      resolve(message as T);
    };
    child.process.on('message', onMessage);
    child.process.send({ id, type });
  });
}

const figures = async (child: Child | undefined): Promise<ChildFigures | undefined> =>
  child === undefined
    ? undefined
    : (await ask<{ figures: ChildFigures }>(child, 'figures')).figures;

async function stop(child: Child): Promise<void> {
  const exited = new Promise((resolve) => child.process.once('exit', resolve));
  await Promise.race([ask(child, 'stop'), exited, sleep(15_000)]);
  // It exits by itself once stopped (and writes its CPU profile then, when asked for one).
  await Promise.race([exited, sleep(5_000)]);
  child.process.kill();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The errors each child logged (pino's levels 50 and 60, or `error` / `fatal`), counted by message
 * with one full line kept as an example: how a failed request failed.
 */
function loggedErrors(): Record<string, { count: number; message: string; example: string }[]> {
  const found: Record<string, { count: number; message: string; example: string }[]> = {};
  for (const [name, file] of logFiles) {
    if (!existsSync(file)) continue;
    const byMessage = new Map<string, { count: number; message: string; example: string }>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!/"level":(5\d|6\d|"error"|"fatal")/.test(line)) continue;
      let message = line.slice(0, 200);
      try {
        const parsed = JSON.parse(line) as {
          msg?: string;
          message?: string;
          err?: { message?: string };
        };
        message = `${parsed.msg ?? parsed.message ?? ''}: ${parsed.err?.message ?? ''}`;
      } catch {
        // not JSON: the raw line's start is the message
      }
      const entry = byMessage.get(message) ?? { count: 0, message, example: line.slice(0, 2000) };
      entry.count++;
      byMessage.set(message, entry);
    }
    if (byMessage.size > 0) found[name] = [...byMessage.values()].sort((a, b) => b.count - a.count);
  }
  return found;
}

// --- load ------------------------------------------------------------------------------------

interface AutocannonResult {
  requests: { total: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
type AutocannonRequest = { method: string; path: string; body?: string; headers: object };
type Autocannon = (options: object) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function saturate(
  port: number,
  seconds: number,
  next: () => ServiceRequest,
  connections = CONNECTIONS,
  amount?: number,
) {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    // `amount`: that many requests, however long they take.
    ...(amount === undefined ? { duration: seconds } : { amount }),
    requests: [
      {
        setupRequest: (request: AutocannonRequest) => {
          const spec = next();
          request.method = spec.method;
          request.path = spec.path;
          request.body = spec.body;
          request.headers = spec.body === undefined ? {} : { 'content-type': 'application/json' };
          return request;
        },
      },
    ],
  });
}

/** Scrapes `/metrics` every second while `work` runs; the number of good and failed scrapes. */
async function scraping<T>(child: Child, work: Promise<T>): Promise<[T, number, number]> {
  let good = 0;
  let bad = 0;
  const metrics = child.metrics;
  const timer =
    metrics === undefined
      ? undefined
      : setInterval(() => {
          fetch(`http://127.0.0.1:${child.port}${metrics.path}`, { headers: metrics.headers })
            .then(async (response) => {
              const text = await response.text();
              if (response.ok && text.includes('# TYPE')) good++;
              else bad++;
            })
            .catch(() => bad++);
        }, 1000);
  try {
    return [await work, good, bad];
  } finally {
    clearInterval(timer);
  }
}

// --- one variant's measurements --------------------------------------------------------------

interface Window {
  requests: number;
  seconds: number;
  failed: number;
  httpCpuUs: number;
  workerCpuUs: number;
  tasksDone: number;
  taskLatencies: number[];
  scrapes: number;
  scrapeFailures: number;
  /** The HTTP process's longest event-loop delay in the window (ms). */
  maxLoopDelayMs: number;
  /** PostgreSQL queries of the HTTP process in the window. */
  dbQueries: number;
  /** Socket writes of the HTTP process in the window by destination (BENCH_SOCKET_WRITES). */
  socketWrites: Record<string, number>;
}

interface Service {
  variant: Variant;
  http: Child;
  worker?: Child;
  next: () => ServiceRequest;
  saturation: Window[];
  fixedRate: (Window & { latencies: Float64Array; byRoute: Record<string, number[]> })[];
}

/** Runs `load` on a service and returns what its processes did meanwhile. */
async function measure<T extends { requests: number; seconds: number; failed: number }>(
  service: Service,
  load: () => Promise<T>,
): Promise<T & Window> {
  const taskSide = service.worker ?? service.http;
  const [httpBefore, workerBefore] = await Promise.all([
    figures(service.http),
    figures(service.worker),
  ]);
  (await figures(taskSide))!.taskLatencies; // drop the latencies of tasks done before the window
  const [result, scrapes, scrapeFailures] = await scraping(service.http, load());
  const [httpAfter, workerAfter] = await Promise.all([
    figures(service.http),
    figures(service.worker),
  ]);
  const taskAfter = service.worker === undefined ? httpAfter! : workerAfter!;
  const taskBefore = service.worker === undefined ? httpBefore! : workerBefore!;
  return {
    ...result,
    httpCpuUs: httpAfter!.cpuUs - httpBefore!.cpuUs,
    workerCpuUs: workerAfter === undefined ? 0 : workerAfter.cpuUs - workerBefore!.cpuUs,
    tasksDone: taskAfter.tasksDone - taskBefore.tasksDone,
    taskLatencies: taskAfter.taskLatencies,
    scrapes,
    scrapeFailures,
    maxLoopDelayMs: httpAfter!.maxEventLoopDelayMs,
    dbQueries: httpAfter!.dbQueries - httpBefore!.dbQueries,
    socketWrites: Object.fromEntries(
      Object.entries(httpAfter!.socketWrites).map(([to, n]) => [
        to,
        n - (httpBefore!.socketWrites[to] ?? 0),
      ]),
    ),
  };
}

async function saturationWindow(service: Service, seconds: number) {
  return measure(service, async () => {
    const result = await saturate(service.http.port!, seconds, service.next);
    if (result.non2xx + result.errors + result.timeouts > 0) {
      console.error(
        `${service.variant}: at saturation ${result.non2xx} answers outside 2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
      );
    }
    return {
      requests: result.requests.total,
      seconds: result.duration,
      failed: result.non2xx + result.errors + result.timeouts,
    };
  });
}

async function fixedRateWindow(service: Service, rate: number, seconds: number) {
  return measure(service, async () => {
    const result = await openLoop({ port: service.http.port!, rate, seconds, next: service.next });
    if (result.failed > 0) {
      console.error(
        `${service.variant}: ${result.failed} failed at the fixed rate: ${JSON.stringify(result.failures)}`,
      );
    }
    return {
      requests: result.completed,
      seconds,
      failed: result.failed,
      latencies: result.latencies,
      byRoute: result.byRoute,
    };
  });
}

/** One variant's figures in the service table. */
interface Row {
  rps: number;
  /** PostgreSQL queries per request at saturation (the caches' misses, the writes). */
  dbQueriesPerRequest: number;
  /** CPU of the HTTP process per request at saturation. */
  httpCpuUsPerRequest: number;
  /** The same at the fixed rate (the same rate for every variant: the figure the goal uses). */
  fixedRateCpuUsPerRequest: number;
  /** CPU of the worker per task done, at the fixed rate. */
  workerCpuUsPerTask: number;
  /** CPU of the HTTP process and the worker together per request, at the fixed rate. */
  cpuUsPerRequestBoth: number;
  tasksPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  taskP50Ms: number;
  taskP99Ms: number;
  rssHttpMb: number;
  rssWorkerMb: number;
  failed: number;
  scrapes: number;
  scrapeFailures: number;
  /** The HTTP process's longest event-loop delay in each fixed-rate window (ms). */
  maxLoopDelayMs: number[];
}

// --- summaries -------------------------------------------------------------------------------

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function sortedOf(values: ArrayLike<number>[]): Float64Array {
  const all = new Float64Array(values.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of values) {
    all.set(part, offset);
    offset += part.length;
  }
  return all.sort();
}

const fmt = (value: number, digits = 1) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      })
    : '-';

function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');
}

// --- the hello-world part ----------------------------------------------------------------------

interface HelloFigures {
  p99Ms: number;
  cpuPerRequest: number;
}

async function helloPart(): Promise<Record<string, Record<string, unknown>>> {
  const frameworks: HelloFramework[] = ['fastify', 'express'];
  const summary: Record<string, Record<string, unknown>> = {};
  for (const framework of frameworks) {
    const apps = new Map<HelloVariant, Child>();
    for (const variant of HELLO_VARIANTS)
      apps.set(variant, await startChild(['hello', framework, variant]));
    const runs = new Map<HelloVariant, HelloFigures[]>(HELLO_VARIANTS.map((v) => [v, []]));
    const added = new Map<HelloVariant, number[]>(HELLO_VARIANTS.map((v) => [v, []]));
    const plain = () => ({ method: 'GET', path: '/', route: 'product' }) as ServiceRequest;
    // Each process first serves as many requests as V8 needs to compile the hot paths: a window
    // of a few hundred requests on code not yet optimised costs several times what it costs
    // later, and bare, measured twice as often, would be warm first.
    const warm = Number(process.env.BENCH_HELLO_WARM ?? S.helloWarm);
    if (warm > 0) for (const app of apps.values()) await saturate(app.port!, warm, plain, 10);
    const one = async (variant: HelloVariant): Promise<HelloFigures> => {
      const app = apps.get(variant)!;
      const before = await figures(app);
      let completed: number;
      let p99Ms = Number.NaN;
      if (HELLO_RATE === undefined) {
        // Saturated, a fixed number of requests: the CPU each request costs, with the process's
        // timers, idle wake-ups and IPC spread over thousands of requests a second rather than a
        // few hundred, where they would be a large share of each request's CPU.
        const result = await saturate(app.port!, 0, plain, 10, HELLO_REQUESTS);
        if (result.non2xx + result.errors + result.timeouts > 0)
          throw new Error(`hello ${framework} ${variant}: failed requests`);
        completed = result.requests.total;
      } else {
        const result = await openLoop({
          port: app.port!,
          rate: HELLO_RATE,
          seconds: HELLO_REQUESTS / HELLO_RATE,
          next: plain,
        });
        if (result.failed > 0)
          throw new Error(`hello ${framework} ${variant}: ${result.failed} failed`);
        completed = result.completed;
        p99Ms = quantile(sortedOf([result.latencies]), 0.99);
      }
      const after = await figures(app);
      const measured = {
        p99Ms,
        cpuPerRequest: (after!.cpuUs - before!.cpuUs) / completed,
      };
      runs.get(variant)!.push(measured);
      return measured;
    };
    try {
      const others = HELLO_VARIANTS.filter((variant) => variant !== 'bare');
      for (let round = 0; round < ROUNDS; round++) {
        // Bare before and after each variant: the cost it adds compares with bare seconds apart.
        let before = await one('bare');
        for (let i = 0; i < others.length; i++) {
          const variant = others[(i + round) % others.length]!;
          const measured = await one(variant);
          const after = await one('bare');
          added
            .get(variant)!
            .push(measured.cpuPerRequest - (before.cpuPerRequest + after.cpuPerRequest) / 2);
          before = after;
        }
      }
    } finally {
      await Promise.all([...apps.values()].map(stop));
    }
    summary[framework] = Object.fromEntries(
      HELLO_VARIANTS.map((variant) => [
        variant,
        {
          p99Ms: median(runs.get(variant)!.map((run) => run.p99Ms)),
          cpuUsPerRequest: median(runs.get(variant)!.map((run) => run.cpuPerRequest)),
          addedCpuUsPerRequest: variant === 'bare' ? 0 : median(added.get(variant)!),
          addedPerRound: added.get(variant)!,
        },
      ]),
    );
  }
  return summary;
}

// --- main ------------------------------------------------------------------------------------

async function deleteRedisKeys(): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(
        cursor,
        'MATCH',
        `svcbench:${RUN}:*`,
        'COUNT',
        1000,
      );
      cursor = nextCursor;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** The service part: seeds, runs the three implementations, prints their table, cleans up. */
async function servicePart(): Promise<{
  rate: number;
  drained: Record<string, string>;
  rows: Record<string, Row>;
  oursOverPeersPerRound: number[];
  ofBoundPerRound: Record<Variant, number[]>;
  latencyByRouteMs: Record<string, Record<string, string>>;
}> {
  const tables = `svcbench_${RUN}`;
  const seedStart = performance.now();
  await seed(tables);
  console.error(
    `seeded ${PRODUCTS.toLocaleString('en-US')} products in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (tables ${tables}_*)`,
  );
  const services: Service[] = [];
  let result: Awaited<ReturnType<typeof servicePart>> | undefined;
  try {
    for (const variant of VARIANTS) {
      const config: ServiceConfig = {
        tables,
        redisUrl: REDIS_URL,
        prefix: `svcbench:${RUN}:${variant}:`,
      };
      const env: Record<string, string> =
        variant === 'baseline' ? { BENCH_OURS_DIST: BASELINE_DIST! } : {};
      const http = await startChild(['service', variant, 'http'], config, env);
      const worker =
        variant === 'bound'
          ? undefined
          : await startChild(['service', variant, 'worker'], config, env);
      services.push({ variant, http, worker, next: workload(1), saturation: [], fixedRate: [] });
    }
    const order = (round: number) =>
      services.map((_, i) => services[(i + round) % services.length]!);

    // Warm-up: code compiled, pools open, caches filled with the popular keys.
    for (const service of services) await saturationWindow(service, S.warm);

    for (let round = 0; round < ROUNDS; round++) {
      const line: string[] = [];
      for (const service of order(round)) {
        await saturate(service.http.port!, S.satWarm, service.next);
        const window = await saturationWindow(service, S.sat);
        service.saturation.push(window);
        const writes = Object.entries(window.socketWrites)
          .map(([to, n]) => `${to} ${(n / window.requests).toFixed(2)}`)
          .join(', ');
        line.push(
          `${service.variant} ${Math.round(window.requests / window.seconds)}${writes === '' ? '' : ` (socket writes per request: ${writes})`}`,
        );
      }
      console.error(
        `saturation round ${round + 1} (req/s): ${line.join(', ')}; load ${loadAverage()}`,
      );
    }
    const peers = services.find((service) => service.variant === 'peers')!;
    const rate = Math.max(
      10,
      Math.round(median(peers.saturation.map((window) => window.requests / window.seconds)) / 2),
    );
    for (let round = 0; round < ROUNDS; round++) {
      const line: string[] = [];
      for (const service of order(round)) {
        await openLoop({ port: service.http.port!, rate, seconds: S.latWarm, next: service.next });
        const window = await fixedRateWindow(service, rate, S.lat);
        service.fixedRate.push(window);
        const sorted = sortedOf([window.latencies]);
        line.push(
          `${service.variant} p99 ${fmt(quantile(sorted, 0.99), 2)} ms (longest event-loop delay ${fmt(window.maxLoopDelayMs, 0)} ms)`,
        );
      }
      console.error(
        `fixed rate ${rate}/s round ${round + 1}: ${line.join(', ')}; load ${loadAverage()}`,
      );
    }

    // Every task submitted has to be done before the figures are final.
    const drained: Record<string, string> = {};
    for (const service of services) {
      const deadline = performance.now() + 15_000;
      let submitted = 0;
      let done = 0;
      do {
        const [http, worker] = await Promise.all([figures(service.http), figures(service.worker)]);
        submitted = http!.submitted;
        done = (worker ?? http)!.tasksDone;
        if (done >= submitted) break;
        await sleep(200);
      } while (performance.now() < deadline);
      drained[service.variant] = `${done} of ${submitted}`;
    }

    const rows: Record<string, Row> = {};
    const ends = await Promise.all(
      services.map(async (service) => ({
        http: (await figures(service.http))!.rssBytes,
        worker: (await figures(service.worker))?.rssBytes ?? 0,
      })),
    );
    services.forEach((service, index) => {
      const sat = service.saturation;
      const fixed = service.fixedRate;
      const latencies = sortedOf(fixed.map((window) => window.latencies));
      const taskLatencies = sortedOf(
        fixed.map((window) => Float64Array.from(window.taskLatencies)),
      );
      rows[service.variant] = {
        rps: median(sat.map((w) => w.requests / w.seconds)),
        httpCpuUsPerRequest: median(sat.map((w) => w.httpCpuUs / w.requests)),
        dbQueriesPerRequest: median(sat.map((w) => w.dbQueries / w.requests)),
        fixedRateCpuUsPerRequest: median(fixed.map((w) => w.httpCpuUs / w.requests)),
        workerCpuUsPerTask: median(
          fixed.map((w) => (w.tasksDone === 0 ? Number.NaN : w.workerCpuUs / w.tasksDone)),
        ),
        cpuUsPerRequestBoth: median(fixed.map((w) => (w.httpCpuUs + w.workerCpuUs) / w.requests)),
        tasksPerSecond: median(sat.map((w) => w.tasksDone / w.seconds)),
        p50Ms: quantile(latencies, 0.5),
        p99Ms: quantile(latencies, 0.99),
        p999Ms: quantile(latencies, 0.999),
        taskP50Ms: quantile(taskLatencies, 0.5),
        taskP99Ms: quantile(taskLatencies, 0.99),
        rssHttpMb: ends[index]!.http / 1048576,
        rssWorkerMb: ends[index]!.worker / 1048576,
        failed: [...sat, ...fixed].reduce((sum, w) => sum + w.failed, 0),
        scrapes: [...sat, ...fixed].reduce((sum, w) => sum + w.scrapes, 0),
        scrapeFailures: [...sat, ...fixed].reduce((sum, w) => sum + w.scrapeFailures, 0),
        maxLoopDelayMs: fixed.map((w) => w.maxLoopDelayMs),
      };
    });
    // Per-round ratios: each round's variants ran seconds apart, on the same machine state.
    const ratioPerRound = (a: Service, b: Service) =>
      a.saturation.map(
        (w, i) => w.requests / w.seconds / (b.saturation[i]!.requests / b.saturation[i]!.seconds),
      );
    const ours = services.find((service) => service.variant === 'ours');
    const bound = services.find((service) => service.variant === 'bound');
    const oursOverPeers = ours === undefined ? [] : ratioPerRound(ours, peers);
    const ofBound: Record<Variant, number[]> = {
      ours: ours === undefined || bound === undefined ? [] : ratioPerRound(ours, bound),
      peers: bound === undefined ? [] : ratioPerRound(peers, bound),
      bound: bound === undefined ? [] : ratioPerRound(bound, bound),
      baseline: [],
    };
    const baseline = services.find((service) => service.variant === 'baseline');
    if (baseline !== undefined && bound !== undefined)
      ofBound.baseline = ratioPerRound(baseline, bound);
    // Where the latency comes from: p50 / p99 by route at the fixed rate.
    const routes: Record<string, Record<string, string>> = {};
    for (const service of services) {
      const byRoute: Record<string, number[][]> = {};
      for (const window of service.fixedRate) {
        for (const [route, values] of Object.entries(window.byRoute)) {
          (byRoute[route] ??= []).push(values);
        }
      }
      routes[service.variant] = Object.fromEntries(
        Object.entries(byRoute).map(([route, parts]) => {
          const sorted = sortedOf(parts);
          return [route, `${fmt(quantile(sorted, 0.5), 2)} / ${fmt(quantile(sorted, 0.99), 2)}`];
        }),
      );
    }
    result = {
      rate,
      drained,
      rows,
      oursOverPeersPerRound: oursOverPeers,
      ofBoundPerRound: ofBound,
      latencyByRouteMs: routes,
    };

    console.log(
      `\n## Service: saturation (${CONNECTIONS} connections, ${ROUNDS} x ${S.sat} s), fixed rate ${rate}/s (${ROUNDS} x ${S.lat} s, open loop)\n`,
    );
    console.log(
      '| variant | req/s | of bound (per round) | HTTP CPU µs/req, saturated / fixed rate | worker CPU µs/task | HTTP + worker CPU µs/req | p50 / p99 / p99.9 ms | tasks/s, saturated | task submit→done p50 / p99 ms | RSS MB, HTTP + worker | failed | scrapes (failed) | DB queries/req, saturated |',
    );
    console.log(
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const service of services) {
      const row = rows[service.variant]!;
      console.log(
        `| ${service.variant} | ${fmt(row.rps, 0)} | ${fmt(median(ofBound[service.variant]), 2)} | ${fmt(row.httpCpuUsPerRequest)} / ${fmt(row.fixedRateCpuUsPerRequest)} | ${fmt(row.workerCpuUsPerTask)} | ${fmt(row.cpuUsPerRequestBoth)} | ${fmt(row.p50Ms, 2)} / ${fmt(row.p99Ms, 2)} / ${fmt(row.p999Ms, 2)} | ${fmt(row.tasksPerSecond)} | ${fmt(row.taskP50Ms, 2)} / ${fmt(row.taskP99Ms, 2)} | ${fmt(row.rssHttpMb, 0)} + ${fmt(row.rssWorkerMb, 0)} | ${row.failed} | ${row.scrapes} (${row.scrapeFailures}) | ${fmt(row.dbQueriesPerRequest, 3)} |`,
      );
    }
    console.log(
      `\nTasks done / submitted: ${Object.entries(drained)
        .map(([v, d]) => `${v} ${d}`)
        .join(', ')}`,
    );
    console.log(
      `Longest event-loop delay of the HTTP process in each fixed-rate window (ms): ${services
        .map(
          (service) =>
            `${service.variant} ${rows[service.variant]!.maxLoopDelayMs.map((ms) => fmt(ms, 0)).join(', ')}`,
        )
        .join('; ')}`,
    );
    console.log(
      `Latency p50 / p99 ms by route at the fixed rate: ${Object.entries(routes)
        .map(
          ([variant, byRoute]) =>
            `${variant}: ${Object.entries(byRoute)
              .map(([route, figures]) => `${route} ${figures}`)
              .join(', ')}`,
        )
        .join('; ')}`,
    );
  } finally {
    await Promise.all(
      services
        .flatMap((service) => [service.http, service.worker].filter((c) => c !== undefined))
        .map(stop),
    );
    await dropTables(tables);
    const deleted = await deleteRedisKeys();
    console.error(`cleaned up: tables ${tables}_* dropped, ${deleted} Redis keys deleted`);
  }
  return result!;
}

async function main(): Promise<void> {
  const uptime = execSync('uptime').toString().trim();
  console.log(
    `# bench:service${QUICK ? ' --quick' : ''}: ${ROUNDS} round(s), Node ${process.version}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ours loaded from ${OURS_FROM}/; ${uptime}`,
  );
  const summary: Record<string, unknown> = {
    quick: QUICK,
    rounds: ROUNDS,
    oursFrom: OURS_FROM,
    uptimeAtStart: uptime,
  };
  const service = PARTS.includes('service') ? await servicePart() : undefined;
  summary.service = service;
  const hello = PARTS.includes('hello') ? await helloPart() : undefined;
  summary.hello = hello;
  if (hello !== undefined) {
    console.log(
      `\n## Hello world: CPU µs per request added beyond bare (${HELLO_RATE === undefined ? 'saturated, 10 connections' : `${HELLO_RATE} req/s open loop`}, ${ROUNDS} x ${HELLO_REQUESTS} requests per variant, bare before and after each)\n`,
    );
    console.log('| framework | variant | p99 ms | CPU µs/req | added beyond bare (per round) |');
    console.log('| --- | --- | ---: | ---: | ---: |');
    for (const [framework, variants] of Object.entries(hello)) {
      for (const [variant, row] of Object.entries(
        variants as Record<string, Record<string, number>>,
      )) {
        console.log(
          `| ${framework} | ${variant} | ${fmt(row.p99Ms!, 2)} | ${fmt(row.cpuUsPerRequest!)} | ${fmt(row.addedCpuUsPerRequest!)} (${(row.addedPerRound as unknown as number[]).map((value) => fmt(value)).join(', ')}) |`,
        );
      }
    }
  }

  // Goals.
  const goals: [string, string, boolean][] = [];
  if (service?.rows.ours !== undefined) {
    const o = service.rows.ours!;
    const p = service.rows.peers!;
    goals.push(
      [
        `throughput ≥ ${GOALS.throughput}x peers (median of the rounds' ratios)`,
        `${fmt(median(service.oursOverPeersPerRound), 2)}x (${service.oursOverPeersPerRound.map((r) => fmt(r, 2)).join(', ')})`,
        median(service.oursOverPeersPerRound) >= GOALS.throughput,
      ],
      [
        `p99 at fixed rate ≤ ${GOALS.p99}x peers`,
        `${fmt(o.p99Ms! / p.p99Ms!, 2)}x`,
        o.p99Ms! / p.p99Ms! <= GOALS.p99,
      ],
      [
        'HTTP CPU per request ≤ peers (fixed rate)',
        `${fmt(o.fixedRateCpuUsPerRequest)} vs ${fmt(p.fixedRateCpuUsPerRequest)} µs`,
        o.fixedRateCpuUsPerRequest <= p.fixedRateCpuUsPerRequest,
      ],
      [
        'CPU per request, HTTP + worker ≤ peers (fixed rate)',
        `${fmt(o.cpuUsPerRequestBoth!)} vs ${fmt(p.cpuUsPerRequestBoth!)} µs`,
        o.cpuUsPerRequestBoth! <= p.cpuUsPerRequestBoth!,
      ],
      [
        `RSS (HTTP + worker) ≤ peers + ${GOALS.rssMb} MB`,
        `${fmt(o.rssHttpMb! + o.rssWorkerMb!, 0)} vs ${fmt(p.rssHttpMb! + p.rssWorkerMb!, 0)} MB`,
        o.rssHttpMb! + o.rssWorkerMb! <= p.rssHttpMb! + p.rssWorkerMb! + GOALS.rssMb,
      ],
    );
  }
  if (hello !== undefined) {
    const added = (framework: string, variant: string) =>
      (hello[framework] as Record<string, Record<string, number>>)[variant]!.addedCpuUsPerRequest!;
    goals.push(
      [
        `hello Express: ours adds ≤ ${GOALS.helloExpress}x peers' CPU`,
        `${fmt(added('express', 'ours') / added('express', 'peers'), 2)}x (${fmt(added('express', 'ours'))} vs ${fmt(added('express', 'peers'))} µs)`,
        added('express', 'ours') <= GOALS.helloExpress * added('express', 'peers'),
      ],
      [
        `hello Fastify: ours adds ≤ ${GOALS.helloFastify}x peers' CPU`,
        `${fmt(added('fastify', 'ours') / added('fastify', 'peers'), 2)}x (${fmt(added('fastify', 'ours'))} vs ${fmt(added('fastify', 'peers'))} µs)`,
        added('fastify', 'ours') <= GOALS.helloFastify * added('fastify', 'peers'),
      ],
    );
  }
  summary.goals = goals.map(([goal, result, met]) => ({ goal, result, met }));
  console.log('\n| goal | result | |\n| --- | --- | --- |');
  for (const [goal, result, met] of goals)
    console.log(`| ${goal} | ${result} | ${met ? 'met' : 'NOT met'} |`);
  const errors = loggedErrors();
  summary.loggedErrors = errors;
  for (const [name, entries] of Object.entries(errors)) {
    for (const entry of entries.slice(0, 5))
      console.error(`${name} logged ${entry.count} x ${entry.message}\n  e.g. ${entry.example}`);
  }
  if (process.env.BENCH_KEEP_LOGS === undefined && process.env.BENCH_CPU_PROF === undefined)
    rmSync(LOG_DIR, { recursive: true, force: true });
  else console.error(`child logs kept in ${LOG_DIR}`);
  summary.loadAverageAtEnd = loadAverage();
  console.log(
    `\nload average at end: ${loadAverage()}\n\nJSON summary:\n${JSON.stringify(summary)}`,
  );
}

await main();
