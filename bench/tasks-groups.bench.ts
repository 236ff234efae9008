/**
 * npm run bench:tasks:groups
 *
 * Groups on the Redis task backend, in one run on the same local Redis:
 *
 * 1. processing throughput: BENCH_TASKS small tasks queued first, then one worker pool of
 *    BENCH_CONCURRENCY slots with a no-op handler; the clock runs from the start of the 10th
 *    percentile task to the start of the last one. Variants: our ungrouped tasks, our tasks
 *    spread over 1,000 groups of uneven size (group i gets a share proportional to 1 / (i + 1)),
 *    and open BullMQ without groups (it has none); a fourth, our ungrouped tasks with random
 *    priorities, takes tasks out of submission order as groups do, without any group work;
 * 2. what the groups cost Redis: its CPU time (INFO cpu) and the commands it ran (INFO
 *    commandstats, the scripts' own commands) per task in each variant (run it on a Redis with no
 *    other clients: both count every client's work; the commands are what a loaded machine does
 *    not move);
 * 3. fairness: one group of 5,000 tasks and 99 groups of 60, all queued before the worker starts;
 *    over the first 5,000 starts (every group has work throughout) the largest group's share of
 *    starts, against an equal share of 1 %.
 *
 * Variants alternate order across BENCH_ROUNDS rounds; the table shows the median round. Each run
 * uses fresh random prefixes and deletes its keys. Environment: BENCH_ROUNDS (3), BENCH_TASKS
 * (10000), BENCH_CONCURRENCY (50), REDIS_URL.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createEnterprise } from '../src/index.js';
import { redisTaskBackend } from '../src/tasks/backends/redis.js';
import { intFromEnv, unlinkKeys } from './support.js';

const ROUNDS = intFromEnv('BENCH_ROUNDS', 3);
const TASKS = intFromEnv('BENCH_TASKS', 10_000);
const CONCURRENCY = intFromEnv('BENCH_CONCURRENCY', 50);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN = randomBytes(4).toString('hex');
const GROUPS = 1_000;
const PAYLOAD = { userId: 'u-1234', orderId: 'o-5678', attempt: 1 };

interface Figures {
  rate: number;
  redisCpuUsPerTask: number;
  /** Commands Redis ran per task, the scripts' own commands included. */
  redisCommandsPerTask: number;
}

const admin = new Redis(REDIS_URL);

/** Redis CPU time (µs) and commands run so far (scripts' own commands, not scripts nor INFO). */
async function redisUsage(): Promise<{ cpu: number; commands: number }> {
  const info = String(await admin.call('INFO', 'cpu', 'commandstats'));
  const read = (field: string) => Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  let commands = 0;
  for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    if (!['evalsha', 'eval', 'evalsha_ro', 'info'].includes(m[1]!)) commands += Number(m[2]);
  }
  return { cpu: (read('used_cpu_user') + read('used_cpu_sys')) * 1e6, commands };
}

/** The group of each task: 1,000 groups, group i weighted 1 / (i + 1). */
function unevenGroups(n: number): string[] {
  const weights = Array.from({ length: GROUPS }, (_, i) => 1 / (i + 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  const out: string[] = [];
  weights.forEach((w, i) => {
    const count = Math.max(1, Math.round((w / sum) * n));
    for (let j = 0; j < count && out.length < n; j++) out.push(`g${i}`);
  });
  while (out.length < n) out.push(`g${out.length % GROUPS}`);
  // Submitted shuffled, as tenants' tasks arrive interleaved.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Our engine on Redis: queue `groups` (one per task, or undefined), then process them. With
 * `shuffled`, ungrouped tasks get random priorities, so they leave in an order unrelated to the
 * order they were written, as grouped tasks do: what taking tasks out of order costs by itself.
 */
async function ours(
  groups: (string | undefined)[],
  onStart?: (group: string) => void,
  shuffled = false,
): Promise<Figures> {
  const prefix = `bench-groups-${RUN}-${randomBytes(3).toString('hex')}`;
  const backend = redisTaskBackend({ url: REDIS_URL, prefix });
  const enterprise = createEnterprise({
    logLevel: 'silent',
    performance: { systemMetrics: false },
    tasks: {
      backend,
      queueName: 'bench',
      workerCount: CONCURRENCY,
      concurrency: { min: CONCURRENCY, max: CONCURRENCY },
    },
  });
  const n = groups.length;
  const warm = Math.floor(n / 10);
  let count = 0;
  let start = 0;
  let end = 0;
  let usageStart = { cpu: 0, commands: 0 };
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  enterprise.tasks.register('bench', async (payload: { g?: string }) => {
    count++;
    if (onStart !== undefined) onStart(payload.g ?? '-');
    if (count === warm) {
      start = performance.now();
      void redisUsage().then((usage) => {
        usageStart = usage;
      });
    }
    if (count === n) {
      end = performance.now();
      done();
    }
  });
  try {
    for (let i = 0; i < n; i += 1_000) {
      await enterprise.tasks.submitMany(
        groups.slice(i, i + 1_000).map((g) => ({
          name: 'bench',
          payload: g === undefined ? PAYLOAD : { ...PAYLOAD, g },
          options:
            g !== undefined
              ? { group: g }
              : shuffled
                ? { priority: Math.floor(Math.random() * 101) }
                : {},
        })),
      );
    }
    await enterprise.start();
    await finished;
    const usageEnd = await redisUsage();
    return {
      rate: ((n - warm) * 1_000) / (end - start),
      redisCpuUsPerTask: (usageEnd.cpu - usageStart.cpu) / (n - warm),
      redisCommandsPerTask: (usageEnd.commands - usageStart.commands) / (n - warm),
    };
  } finally {
    await enterprise.shutdown();
    await backend.close();
    await unlinkKeys(admin, `${prefix}*`);
  }
}

/** Open BullMQ (no groups): the same tasks, one Worker of the same concurrency. */
async function bull(n: number): Promise<Figures> {
  const prefix = `bench-bull-${RUN}-${randomBytes(3).toString('hex')}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const retention = { removeOnComplete: { count: 1_000 }, removeOnFail: { count: 10_000 } };
  const queue = new Queue('bench', { connection, prefix, defaultJobOptions: retention });
  const warm = Math.floor(n / 10);
  let count = 0;
  let start = 0;
  let end = 0;
  let usageStart = { cpu: 0, commands: 0 };
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  try {
    for (let i = 0; i < n; i += 1_000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1_000, n - i) }, () => ({ name: 'bench', data: PAYLOAD })),
      );
    }
    const worker = new Worker(
      'bench',
      async () => {
        count++;
        if (count === warm) {
          start = performance.now();
          void redisUsage().then((usage) => {
            usageStart = usage;
          });
        }
        if (count === n) {
          end = performance.now();
          done();
        }
      },
      { connection, prefix, concurrency: CONCURRENCY, ...retention },
    );
    worker.on('error', () => undefined);
    await finished;
    const usageEnd = await redisUsage();
    await worker.close();
    return {
      rate: ((n - warm) * 1_000) / (end - start),
      redisCpuUsPerTask: (usageEnd.cpu - usageStart.cpu) / (n - warm),
      redisCommandsPerTask: (usageEnd.commands - usageStart.commands) / (n - warm),
    };
  } finally {
    await queue.close();
    await unlinkKeys(admin, `${prefix}*`);
    await connection.quit();
  }
}

/** The largest group's share of the first 5,000 starts while 100 groups have work. */
async function fairness(): Promise<number> {
  const groups = [
    ...Array.from({ length: 5_000 }, () => 'big'),
    ...Array.from({ length: 99 * 60 }, (_, i) => `small-${i % 99}`),
  ];
  const starts: string[] = [];
  await ours(groups, (g) => {
    if (starts.length < 5_000) starts.push(g);
  });
  return starts.filter((g) => g === 'big').length / starts.length;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ${TASKS} tasks, concurrency ${CONCURRENCY}, ${ROUNDS} rounds`,
  );
  const grouped = unevenGroups(TASKS);
  const ungrouped = Array.from({ length: TASKS }, () => undefined);
  const results: Record<string, Figures[]> = {
    ungrouped: [],
    shuffled: [],
    grouped: [],
    bullmq: [],
  };
  const variants: [string, () => Promise<Figures>][] = [
    ['ungrouped', () => ours(ungrouped)],
    ['shuffled', () => ours(ungrouped, undefined, true)],
    ['grouped', () => ours(grouped)],
    ['bullmq', () => bull(TASKS)],
  ];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const [name, run] of order) results[name]!.push(await run());
  }
  const shares: number[] = [];
  for (let round = 0; round < ROUNDS; round++) shares.push(await fairness());

  const row = (name: string) => {
    const rate = median(results[name]!.map((f) => f.rate));
    const cpu = median(results[name]!.map((f) => f.redisCpuUsPerTask));
    const commands = median(results[name]!.map((f) => f.redisCommandsPerTask));
    return { rate, cpu, commands };
  };
  const u = row('ungrouped');
  const sh = row('shuffled');
  const g = row('grouped');
  const b = row('bullmq');
  const ratios = results.grouped!.map((f, i) => f.rate / results.ungrouped![i]!.rate);
  console.log('\n| variant | tasks/s (median) | Redis CPU µs per task | Redis commands per task |');
  console.log('|---|---:|---:|---:|');
  console.log(
    `| ours, ungrouped | ${u.rate.toFixed(0)} | ${u.cpu.toFixed(1)} | ${u.commands.toFixed(2)} |`,
  );
  console.log(
    `| ours, ungrouped, random priorities | ${sh.rate.toFixed(0)} | ${sh.cpu.toFixed(1)} | ${sh.commands.toFixed(2)} |`,
  );
  console.log(
    `| ours, 1,000 uneven groups | ${g.rate.toFixed(0)} | ${g.cpu.toFixed(1)} | ${g.commands.toFixed(2)} |`,
  );
  console.log(
    `| BullMQ (open, no groups) | ${b.rate.toFixed(0)} | ${b.cpu.toFixed(1)} | ${b.commands.toFixed(2)} |`,
  );
  const ratio = median(ratios);
  console.log(
    `\ngrouped / ungrouped throughput: ${(ratio * 100).toFixed(1)} % (rounds: ${ratios.map((r) => (r * 100).toFixed(1)).join(', ')}); goal: within 10 % (>= 90 %): ${ratio >= 0.9 ? 'met' : 'not met'}`,
  );
  console.log(
    `extra Redis CPU per grouped task: ${(g.cpu - u.cpu).toFixed(1)} µs (${(g.cpu - sh.cpu).toFixed(1)} µs beside ungrouped tasks taken out of order); ${(g.commands - u.commands).toFixed(2)} more Redis commands`,
  );
  const share = median(shares);
  console.log(
    `largest group's share of the first 5,000 starts, 100 groups with work: ${(share * 100).toFixed(2)} % (rounds: ${shares.map((s) => (s * 100).toFixed(2)).join(', ')}); equal share 1 %; goal: within 2 points: ${Math.abs(share - 0.01) <= 0.02 ? 'met' : 'not met'}`,
  );
  await admin.quit();
}

await main();
