/**
 * npm run bench:tasks
 *
 * Background tasks on Redis, our Redis backend beside BullMQ 6, on the same local Redis in one run.
 * The scenarios mirror taskforcesh/bullmq-bench:
 *
 * 1. add one at a time: 1,000 warm-up + 10,000 measured sequential awaited adds (BullMQ
 *    `queue.add`, our `tasks.submit`);
 * 2. add in bulk: the same tasks in bulks of 100 (BullMQ `addBulk`, our `tasks.submitMany`);
 * 3. process, concurrency 1, and 4. process, concurrency 100: 11,000 tasks are queued first (in
 *    bulks of 100), then a worker with a no-op handler processes them; the clock starts when the
 *    1,000th task starts and stops when the last one starts.
 *
 * Each job carries the same payload as bullmq-bench's (an object 10 keys wide and 10 deep, ~4 KB of
 * JSON). Retention is the same for both: 1,000 completed and 10,000 failed jobs kept.
 *
 * After each processing scenario, enqueue-to-start latency is measured on a running worker under a
 * paced load (BENCH_LATENCY_TASKS single submits, one about every millisecond): the time from just
 * before the submit call to the start of the handler, p50 and p99.
 *
 * Our side goes through the public engine: an instance from `createEnterprise({ tasks: { backend:
 * redisTaskBackend(...) } })`, `tasks.submit` / `tasks.submitMany` to add, a handler registered
 * with `tasks.register` and workers started by `start()` (a pool of exactly 1 or 100 slots).
 * BENCH_MODE=backend drives the backend directly instead, with a minimal worker loop (claim up to
 * BENCH_PREFETCH tasks or the free slots, run at most `concurrency` handlers at once, acknowledge
 * the batch in one `finish`, `waitForWork` when idle): a diagnosis of what the backend can do
 * apart from the engine, not a like-for-like figure.
 *
 * Each scenario uses a fresh random prefix and queue; every key is deleted afterwards. Each
 * scenario first runs BENCH_WARMUP_ROUNDS unmeasured rounds of both sides: a process that has just
 * started (or just moved to another kind of work) runs slower while its code is compiled and its
 * heap settles, and the first measured rounds would otherwise measure that. Variants then alternate
 * order across BENCH_ROUNDS rounds; jobs/s and latencies are the median round, the ratio is the
 * median (and range) of the ratios measured within each round.
 *
 * Environment: BENCH_ROUNDS (3), BENCH_WARMUP_ROUNDS (1; 0 for none), BENCH_WARMUP (1000),
 * BENCH_TASKS (10000), BENCH_LATENCY_TASKS
 * (2000), BENCH_ONLY (run the scenarios whose title contains it), BENCH_PAYLOAD (`small`: a payload
 * of three short fields instead of bullmq-bench's ~4 KB), BENCH_MODE (engine | backend),
 * BENCH_PREFETCH (backend mode: tasks claimed per call), BENCH_PROFILE=1 (a CPU profile of our
 * side's measured window in the processing scenarios, printed as microseconds per task by kind of
 * work; the profiler slows the run, so its rounds are for diagnosis, not for the table), REDIS_URL
 * (redis://127.0.0.1:6379).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Session } from 'node:inspector';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createEnterprise, type Enterprise } from '../src/index.js';
import { redisTaskBackend } from '../src/tasks/backends/redis.js';
import type { AttemptOutcome, BackoffSpec, NewTask, TaskBackend } from '../src/tasks/types.js';

const ROUNDS = intFromEnv('BENCH_ROUNDS', 3);
/** Unmeasured rounds of both sides before the measured ones, per scenario. */
const WARMUP_ROUNDS = intFromEnv('BENCH_WARMUP_ROUNDS', 1, 0);
const WARMUP = intFromEnv('BENCH_WARMUP', 1_000);
const MEASURED = intFromEnv('BENCH_TASKS', 10_000);
const LATENCY_TASKS = intFromEnv('BENCH_LATENCY_TASKS', 2_000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BULK = 100;
/** BENCH_MODE=backend only: tasks claimed per call beyond the free slots. */
const PREFETCH = intFromEnv('BENCH_PREFETCH', 1);
const TOTAL = WARMUP + MEASURED;
const RUN = randomBytes(4).toString('hex');
/** `engine` (default): the public API; `backend`: raw backend calls, for diagnosis. */
const MODE = process.env.BENCH_MODE === 'backend' ? 'backend' : 'engine';

/** BENCH_PROFILE=1: profile our side's measured window in the processing scenarios. */
const PROFILE = process.env.BENCH_PROFILE === '1';

/** Goal of issue 4 ("Speed"): at least this many times BullMQ's throughput when processing. */
const GOAL_FACTOR = 2;

/** bullmq-bench's job data: `widthFactor` 10, `depthFactor` 10, keys are UUIDs. */
function sampleData(width = 10, depth = 10): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (let i = 0; i < width; i++) {
    let node: Record<string, unknown> = {};
    root[randomUUID()] = node;
    for (let j = 1; j < depth; j++) {
      const inner: Record<string, unknown> = {};
      node[randomUUID()] = inner;
      node = inner;
    }
  }
  return root;
}
/**
 * BENCH_PAYLOAD=small: a payload of a few ids instead of bullmq-bench's, for the case where the
 * payload's parse no longer dominates the worker's time and the store's work per task shows.
 */
const DATA: Record<string, unknown> =
  process.env.BENCH_PAYLOAD === 'small'
    ? { userId: 'u-1234', orderId: 'o-5678', attempt: 1 }
    : sampleData();
const PAYLOAD = JSON.stringify(DATA);

interface Figures {
  /** Measured tasks per second. */
  rate: number;
  p50?: number;
  p99?: number;
  /** CPU time per measured task: this process (the library under test) and Redis. */
  nodeCpuUs?: number;
  redisCpuUs?: number;
}

let statsClient: Redis | undefined;

/** Redis' own CPU time (user + system), in microseconds, from INFO on a separate connection. */
async function redisCpuUs(): Promise<number> {
  statsClient ??= new Redis(REDIS_URL);
  const info = await statsClient.info('cpu');
  const read = (field: string) => Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (read('used_cpu_user') + read('used_cpu_sys')) * 1e6;
}

/** Redis' `INFO commandstats`: per command, calls and microseconds (server-wide). */
async function commandStats(): Promise<Map<string, { calls: number; usec: number }>> {
  statsClient ??= new Redis(REDIS_URL);
  const info = await statsClient.info('commandstats');
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

/** Redis time per task by command between two {@link commandStats} snapshots (BENCH_PROFILE). */
function commandSummary(
  before: Map<string, { calls: number; usec: number }>,
  after: Map<string, { calls: number; usec: number }>,
  tasks: number,
): string {
  const parts: [string, number, number][] = [];
  for (const [name, end] of after) {
    const start = before.get(name) ?? { calls: 0, usec: 0 };
    const usec = end.usec - start.usec;
    if (usec > 0) parts.push([name, usec / tasks, end.calls - start.calls]);
  }
  parts.sort((a, b) => b[1] - a[1]);
  return `Redis µs/task by command: ${parts
    .filter(([, us]) => us >= 0.05)
    .map(([name, us, calls]) => `${name} ${us.toFixed(1)} (${calls} calls)`)
    .join(', ')}`;
}

/**
 * CPU spent by this process and by Redis between the start and the end of a measured window:
 * on a shared machine it moves less than wall time, and it shows which side does the work.
 */
class CpuWindow {
  #node: NodeJS.CpuUsage | undefined;
  #nodeUs = 0;
  #redisStart: Promise<number> | undefined;
  #redisEnd: Promise<number> | undefined;

  start(): void {
    this.#node = process.cpuUsage();
    this.#redisStart = redisCpuUs();
  }

  stop(): void {
    const used = process.cpuUsage(this.#node);
    this.#nodeUs = used.user + used.system;
    this.#redisEnd = redisCpuUs();
  }

  async perTask(tasks: number): Promise<{ nodeCpuUs: number; redisCpuUs: number }> {
    const redisUs = (await this.#redisEnd!) - (await this.#redisStart!);
    return { nodeCpuUs: this.#nodeUs / tasks, redisCpuUs: redisUs / tasks };
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

/**
 * A CPU profile (inspector, 100 µs sampling) of one measured window, summarized as microseconds
 * of this process's main thread per task by kind of work, and the share of the window it idled.
 * The profiler is started before the window (`arm`) and its samples are cut to the window by
 * their timestamps: starting it logs every compiled function and stopping it serializes the
 * profile, tens of milliseconds of the main thread that are the profiler's, not the work's.
 */
class WindowProfile {
  readonly #session = new Session();
  #stopped: Promise<unknown> | undefined;
  /** The window, on the profile's clock (monotonic, µs). */
  #startUs = 0;
  #endUs = Number.POSITIVE_INFINITY;

  #post(method: string, params?: object): Promise<any> {
    return new Promise((resolve, reject) =>
      this.#session.post(method, params, (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    );
  }

  /** Starts the profiler; resolves once it runs (call before the window begins). */
  async arm(): Promise<void> {
    this.#session.connect();
    await this.#post('Profiler.enable');
    await this.#post('Profiler.setSamplingInterval', { interval: 100 });
    await this.#post('Profiler.start');
  }

  /** Begins the window (called where the measured window begins). */
  start(): void {
    this.#startUs = monotonicUs();
  }

  /** Ends the window (called where the measured window ends). */
  stop(): void {
    this.#endUs = monotonicUs();
    this.#stopped = this.#post('Profiler.stop');
  }

  async summary(tasks: number): Promise<string> {
    const { profile } = (await this.#stopped) as {
      profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number };
    };
    this.#session.disconnect();
    const kindOf = new Map<number, string>();
    for (const node of profile.nodes) {
      const { functionName, url } = node.callFrame;
      kindOf.set(
        node.id,
        functionName === '(idle)'
          ? 'idle'
          : functionName === '(garbage collector)'
            ? 'garbage collection'
            : functionName === 'decodeJson'
              ? 'payload JSON.parse'
              : /node_modules\/(ioredis|redis-parser|denque|cluster-key-slot)\//.test(url)
                ? 'ioredis'
                : /\/src\/tasks\//.test(url)
                  ? 'task engine and backend'
                  : /\/src\//.test(url)
                    ? 'other library code (metrics, context)'
                    : 'Node.js, V8 and the benchmark',
      );
    }
    const total = new Map<string, number>();
    let all = 0;
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas[i] ?? 0;
      if (at <= this.#startUs || at > this.#endUs) return;
      const kind = kindOf.get(id) ?? 'Node.js, V8 and the benchmark';
      const us = profile.timeDeltas[i] ?? 0;
      total.set(kind, (total.get(kind) ?? 0) + us);
      all += us;
    });
    const idle = total.get('idle') ?? 0;
    total.delete('idle');
    const parts = [...total]
      .sort((a, b) => b[1] - a[1])
      .map(([kind, us]) => `${kind} ${(us / tasks).toFixed(1)}`);
    return `main thread µs/task: ${parts.join(', ')}; idle ${((100 * idle) / all).toFixed(0)} % of the window`;
  }
}

/** The monotonic clock V8's CPU profiles use, in microseconds. */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1_000n);
}

// ---------------------------------------------------------------------------------------------
// BullMQ
// ---------------------------------------------------------------------------------------------

const bullConnection = () => new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const bullRetention = { removeOnComplete: { count: 1_000 }, removeOnFail: { count: 10_000 } };

async function withBullQueue<T>(fn: (queue: Queue, prefix: string) => Promise<T>): Promise<T> {
  const prefix = `bench-bull-${RUN}-${randomBytes(3).toString('hex')}`;
  const connection = bullConnection();
  const queue = new Queue('bench', { connection, prefix, defaultJobOptions: bullRetention });
  await queue.waitUntilReady();
  try {
    return await fn(queue, prefix);
  } finally {
    await queue.close();
    await deleteKeys(connection, prefix);
    await connection.quit();
  }
}

async function bullAdd(bulk: number): Promise<Figures> {
  return withBullQueue(async (queue) => {
    let start = 0;
    for (let count = 0; count < TOTAL; ) {
      if (count === WARMUP) start = performance.now();
      if (bulk === 0) {
        await queue.add('test', DATA);
        count++;
      } else {
        const n = Math.min(bulk, TOTAL - count);
        await queue.addBulk(Array.from({ length: n }, () => ({ name: 'test', data: DATA })));
        count += n;
      }
    }
    return { rate: (MEASURED * 1_000) / (performance.now() - start) };
  });
}

async function bullProcess(concurrency: number): Promise<Figures> {
  return withBullQueue(async (queue, prefix) => {
    for (let count = 0; count < TOTAL; count += BULK) {
      await queue.addBulk(Array.from({ length: BULK }, () => ({ name: 'test', data: DATA })));
    }
    let count = 0;
    let start = 0;
    let end = 0;
    const cpu = new CpuWindow();
    const finished = deferred();
    let latencies: number[] | undefined;
    const connection = bullConnection();
    const worker = new Worker(
      'bench',
      async (job) => {
        if (latencies !== undefined) {
          latencies.push(performance.now() - (job.data as { t: number }).t);
          return;
        }
        count++;
        if (count === WARMUP) {
          start = performance.now();
          cpu.start();
        }
        if (count === TOTAL) {
          end = performance.now();
          cpu.stop();
          finished.resolve();
        }
      },
      { connection, prefix, concurrency, ...bullRetention },
    );
    worker.on('error', () => undefined);
    await finished.promise;
    const rate = (MEASURED * 1_000) / (end - start);
    const cpuPerTask = await cpu.perTask(MEASURED);
    // Latency on the running worker, under a paced load.
    latencies = [];
    const samples = latencies;
    const latencyFinished = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (samples.length >= LATENCY_TASKS) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    for (let i = 0; i < LATENCY_TASKS; i++) {
      await queue.add('test', { ...DATA, t: performance.now() });
      await sleep(1);
    }
    await latencyFinished;
    await worker.close();
    await connection.quit();
    return { rate, ...cpuPerTask, ...percentiles(samples) };
  });
}

// ---------------------------------------------------------------------------------------------
// Ours
// ---------------------------------------------------------------------------------------------

const BACKOFF: BackoffSpec = {
  type: 'exponential',
  delayMs: 1_000,
  factor: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
};

function newTask(queue: string, payload = PAYLOAD): NewTask {
  const now = Date.now();
  return {
    id: randomUUID(),
    name: 'test',
    queue,
    payload,
    priority: 50,
    runAt: now,
    maxRetries: 3,
    backoff: BACKOFF,
    timeoutMs: 0,
    dependsOn: [],
    failOnDependencyFailure: true,
    createdAt: now,
  };
}

async function withBackend<T>(fn: (backend: TaskBackend, queue: string) => Promise<T>): Promise<T> {
  const prefix = `bench-ours-${RUN}-${randomBytes(3).toString('hex')}`;
  const backend = redisTaskBackend({
    url: REDIS_URL,
    prefix,
    retention: { completed: { count: 1_000 }, dead: { count: 10_000 } },
  });
  try {
    return await fn(backend, 'bench');
  } finally {
    await backend.close();
    const admin = new Redis(REDIS_URL);
    await deleteKeys(admin, prefix);
    await admin.quit();
  }
}

async function oursAdd(bulk: number): Promise<Figures> {
  return withBackend(async (backend, queue) => {
    let start = 0;
    for (let count = 0; count < TOTAL; ) {
      if (count === WARMUP) start = performance.now();
      // As submitTask does: serialize the payload per call.
      if (bulk === 0) {
        await backend.add([newTask(queue, JSON.stringify(DATA))]);
        count++;
      } else {
        const n = Math.min(bulk, TOTAL - count);
        await backend.add(Array.from({ length: n }, () => newTask(queue, JSON.stringify(DATA))));
        count += n;
      }
    }
    return { rate: (MEASURED * 1_000) / (performance.now() - start) };
  });
}

/**
 * A minimal worker pool on the backend: claims up to its free slots, runs the handlers, and
 * acknowledges each claimed batch in one `finish`; waits with `waitForWork` when nothing is ready.
 */
function backendPool(
  backend: TaskBackend,
  queue: string,
  concurrency: number,
  handler: (payload: string) => void,
): { stop: () => Promise<void> } {
  const controller = new AbortController();
  let running = true;
  const loop = (async () => {
    while (running) {
      const claimed = await backend.claim(
        queue,
        'bench-worker',
        Math.max(concurrency, PREFETCH),
        30_000,
      );
      if (claimed.length === 0) {
        await backend.waitForWork(queue, 1_000, controller.signal);
        continue;
      }
      // At most `concurrency` handlers at once, over the claimed batch.
      const outcomes: AttemptOutcome[] = [];
      let next = 0;
      const slot = async () => {
        while (next < claimed.length) {
          const { task, token } = claimed[next++]!;
          handler(task.payload);
          await Promise.resolve();
          outcomes.push({
            kind: 'completed',
            id: task.id,
            token,
            result: 'null',
            finishedAt: Date.now(),
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, slot));
      await backend.finish(queue, outcomes);
    }
  })();
  return {
    stop: async () => {
      running = false;
      controller.abort();
      await loop;
    },
  };
}

async function oursProcess(concurrency: number): Promise<Figures> {
  return withBackend(async (backend, queue) => {
    for (let count = 0; count < TOTAL; count += BULK) {
      await backend.add(Array.from({ length: BULK }, () => newTask(queue)));
    }
    let count = 0;
    let start = 0;
    let end = 0;
    const cpu = new CpuWindow();
    const finished = deferred();
    let latencies: number[] | undefined;
    const pool = backendPool(backend, queue, concurrency, (payload) => {
      if (latencies !== undefined) {
        latencies.push(performance.now() - (JSON.parse(payload) as { t: number }).t);
        return;
      }
      count++;
      if (count === WARMUP) {
        start = performance.now();
        cpu.start();
      }
      if (count === TOTAL) {
        end = performance.now();
        cpu.stop();
        finished.resolve();
      }
    });
    await finished.promise;
    const rate = (MEASURED * 1_000) / (end - start);
    const cpuPerTask = await cpu.perTask(MEASURED);
    latencies = [];
    const samples = latencies;
    for (let i = 0; i < LATENCY_TASKS; i++) {
      await backend.add([newTask(queue, JSON.stringify({ ...DATA, t: performance.now() }))]);
      await sleep(1);
    }
    for (let i = 0; i < 500 && samples.length < LATENCY_TASKS; i++) await sleep(10);
    await pool.stop();
    return { rate, ...cpuPerTask, ...percentiles(samples) };
  });
}

/**
 * An instance on a fresh backend (random prefix) with a pool of exactly `concurrency` slots on a
 * fresh queue; shut down, closed and its keys deleted afterwards.
 */
async function withEngine<T>(
  concurrency: number,
  fn: (enterprise: Enterprise) => Promise<T>,
): Promise<T> {
  const prefix = `bench-ours-${RUN}-${randomBytes(3).toString('hex')}`;
  const backend = redisTaskBackend({
    url: REDIS_URL,
    prefix,
    retention: { completed: { count: 1_000 }, dead: { count: 10_000 } },
  });
  const enterprise = createEnterprise({
    logLevel: 'warn',
    tasks: {
      backend,
      queueName: 'bench',
      workerCount: concurrency,
      concurrency: { min: concurrency, max: concurrency },
    },
  });
  try {
    return await fn(enterprise);
  } finally {
    await enterprise.shutdown();
    await backend.close();
    const admin = new Redis(REDIS_URL);
    await deleteKeys(admin, prefix);
    await admin.quit();
  }
}

async function engineAdd(bulk: number): Promise<Figures> {
  return withEngine(1, async (enterprise) => {
    let start = 0;
    for (let count = 0; count < TOTAL; ) {
      if (count === WARMUP) start = performance.now();
      if (bulk === 0) {
        await enterprise.tasks.submit('test', DATA);
        count++;
      } else {
        const n = Math.min(bulk, TOTAL - count);
        await enterprise.tasks.submitMany(
          Array.from({ length: n }, () => ({ name: 'test', payload: DATA })),
        );
        count += n;
      }
    }
    return { rate: (MEASURED * 1_000) / (performance.now() - start) };
  });
}

async function engineProcess(concurrency: number): Promise<Figures> {
  return withEngine(concurrency, async (enterprise) => {
    let count = 0;
    let start = 0;
    let end = 0;
    const cpu = new CpuWindow();
    const finished = deferred();
    const profile = PROFILE ? new WindowProfile() : undefined;
    let statsBefore: ReturnType<typeof commandStats> | undefined;
    let statsAfter: ReturnType<typeof commandStats> | undefined;
    let latencies: number[] | undefined;
    enterprise.tasks.register('test', async (payload: unknown) => {
      if (latencies !== undefined) {
        latencies.push(performance.now() - (payload as { t: number }).t);
        return;
      }
      count++;
      if (count === WARMUP) {
        start = performance.now();
        cpu.start();
        profile?.start();
        if (PROFILE) statsBefore = commandStats();
      }
      if (count === TOTAL) {
        end = performance.now();
        cpu.stop();
        profile?.stop();
        if (PROFILE) statsAfter = commandStats();
        finished.resolve();
      }
    });
    // Queued before the workers start, as bullmq-bench does.
    for (let n = 0; n < TOTAL; n += BULK) {
      await enterprise.tasks.submitMany(
        Array.from({ length: BULK }, () => ({ name: 'test', payload: DATA })),
      );
    }
    await profile?.arm();
    await enterprise.start();
    await finished.promise;
    if (profile !== undefined) {
      console.log(`    ours, concurrency ${concurrency}: ${await profile.summary(MEASURED)}`);
      console.log(
        `    ours, concurrency ${concurrency}: ${commandSummary(await statsBefore!, await statsAfter!, MEASURED)}`,
      );
    }
    const rate = (MEASURED * 1_000) / (end - start);
    const cpuPerTask = await cpu.perTask(MEASURED);
    latencies = [];
    const samples = latencies;
    for (let i = 0; i < LATENCY_TASKS; i++) {
      await enterprise.tasks.submit('test', { ...DATA, t: performance.now() });
      await sleep(1);
    }
    for (let i = 0; i < 500 && samples.length < LATENCY_TASKS; i++) await sleep(10);
    return { rate, ...cpuPerTask, ...percentiles(samples) };
  });
}

// ---------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------

interface Scenario {
  title: string;
  processing: boolean;
  bull: () => Promise<Figures>;
  ours: () => Promise<Figures>;
}

const SCENARIOS: Scenario[] = [
  {
    title: 'add one at a time',
    processing: false,
    bull: () => bullAdd(0),
    ours: () => (MODE === 'engine' ? engineAdd(0) : oursAdd(0)),
  },
  {
    title: `add in bulk (${BULK} per call)`,
    processing: false,
    bull: () => bullAdd(BULK),
    ours: () => (MODE === 'engine' ? engineAdd(BULK) : oursAdd(BULK)),
  },
  {
    title: 'process, concurrency 1',
    processing: true,
    bull: () => bullProcess(1),
    ours: () => (MODE === 'engine' ? engineProcess(1) : oursProcess(1)),
  },
  {
    title: 'process, concurrency 100',
    processing: true,
    bull: () => bullProcess(100),
    ours: () => (MODE === 'engine' ? engineProcess(100) : oursProcess(100)),
  },
];

async function main(): Promise<void> {
  const admin = new Redis(REDIS_URL);
  const info = await admin.info('server');
  await admin.quit();
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  const bullVersion = (await import('bullmq/package.json', { with: { type: 'json' } })).default
    .version;
  console.log(
    `# Tasks: ours (${MODE === 'engine' ? 'the task engine on redisTaskBackend' : 'raw backend calls, BENCH_MODE=backend'}) vs BullMQ ${bullVersion}` +
      `\nNode ${process.version}, Redis ${redisVersion}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()})` +
      `\n${WARMUP} warm-up + ${MEASURED} measured tasks, ${ROUNDS} rounds (median) after ${WARMUP_ROUNDS} unmeasured, payload ${PAYLOAD.length} bytes of JSON` +
      `\nlatency: ${LATENCY_TASKS} paced single submits on a running worker\n`,
  );
  const rows: string[] = [];
  const verdicts: string[] = [];
  const only = process.env.BENCH_ONLY;
  for (const scenario of SCENARIOS.filter((s) => only === undefined || s.title.includes(only))) {
    for (let round = 0; round < WARMUP_ROUNDS; round++) {
      await scenario.bull();
      await scenario.ours();
    }
    const bull: Figures[] = [];
    const ours: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which side runs first, so neither always gets the warmer Redis.
      if (round % 2 === 0) {
        bull.push(await scenario.bull());
        ours.push(await scenario.ours());
      } else {
        ours.push(await scenario.ours());
        bull.push(await scenario.bull());
      }
    }
    const b = median(bull);
    const o = median(ours);
    console.log(
      `  ${scenario.title}, each round (jobs/s): BullMQ ${bull.map((f) => fmt(f.rate)).join(', ')}; ours ${ours.map((f) => fmt(f.rate)).join(', ')}`,
    );
    // The ratio within each round (both sides ran back to back), then its median: steadier on a
    // shared machine than the ratio of the medians.
    const ratios = ours.map((f, i) => f.rate / bull[i]!.rate).sort((x, y) => x - y);
    const ratio = ratios[Math.floor(ratios.length / 2)]!;
    const spread = `${ratios[0]!.toFixed(2)}-${ratios.at(-1)!.toFixed(2)}`;
    const latency = (f: Figures) =>
      f.p50 === undefined ? '-' : `${f.p50.toFixed(2)} / ${f.p99!.toFixed(2)}`;
    const cpuOf = (f: Figures) =>
      f.nodeCpuUs === undefined ? '-' : `${f.nodeCpuUs.toFixed(0)} / ${f.redisCpuUs!.toFixed(0)}`;
    rows.push(
      `| ${scenario.title} | ${fmt(b.rate)} | ${fmt(o.rate)} | ${ratio.toFixed(2)}x (${spread}) | ${latency(b)} | ${latency(o)} | ${cpuOf(b)} | ${cpuOf(o)} |`,
    );
    console.log(rows.at(-1));
    if (scenario.processing) {
      verdicts.push(
        `- ${scenario.title}: ${ratio.toFixed(2)}x BullMQ (goal ${GOAL_FACTOR}x): ${ratio >= GOAL_FACTOR ? 'met' : 'NOT met'}`,
      );
    }
  }
  console.log(
    '\n| scenario | BullMQ jobs/s | ours jobs/s | ours / BullMQ, per round: median (min-max) | BullMQ latency p50 / p99 ms | ours latency p50 / p99 ms | BullMQ CPU µs/task, node / Redis | ours CPU µs/task, node / Redis |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
  console.log(`\n${verdicts.join('\n')}`);
  await statsClient?.quit();
}

function median(figures: Figures[]): Figures {
  const by = (key: keyof Figures) => {
    const values = figures.map((f) => f[key]).filter((v): v is number => v !== undefined);
    if (values.length === 0) return undefined;
    values.sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)]!;
  };
  const result: Figures = { rate: by('rate')! };
  for (const key of ['p50', 'p99', 'nodeCpuUs', 'redisCpuUs'] as const) {
    const value = by(key);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

function percentiles(samples: number[]): { p50?: number; p99?: number } {
  if (samples.length === 0) return {};
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

/** `Promise.withResolvers` (Node 22+) for Node 20. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
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
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
