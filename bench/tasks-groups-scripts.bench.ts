/**
 * npx tsx bench/tasks-groups-scripts.bench.ts
 *
 * What the grouped claim costs Redis, script by script: the Redis backend's CLAIM and FINISH
 * called directly (no worker pool), on BENCH_TASKS tasks queued first, either ungrouped or over
 * 1,000 groups of uneven size (as in tasks-groups.bench.ts). Claims take BENCH_BATCH tasks each
 * and each claimed batch is finished in one call; all claims run first, then all finishes, each
 * phase timed by the Redis server's CPU time (`INFO cpu`): run it on a Redis with no other clients
 * for clean figures. The commands each phase ran (`INFO commandstats`, the scripts' own commands)
 * are counted too: a figure no other load on the machine moves.
 * Environment: BENCH_TASKS (20000), BENCH_BATCH (10), BENCH_ROUNDS (3), REDIS_URL.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisTaskBackend } from '../src/tasks/backends/redis.js';
import type { AttemptOutcome, ClaimedTask, NewTask } from '../src/tasks/types.js';
import { intFromEnv, unlinkKeys } from './support.js';

const TASKS = intFromEnv('BENCH_TASKS', 20_000);
const BATCH = intFromEnv('BENCH_BATCH', 10);
const ROUNDS = intFromEnv('BENCH_ROUNDS', 3);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const GROUPS = 1_000;
const admin = new Redis(REDIS_URL);

/** CPU time of the Redis server so far, in microseconds (user and system). */
async function cpuUs(): Promise<number> {
  const info = await admin.info('cpu');
  const read = (field: string) => Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (read('used_cpu_user') + read('used_cpu_sys')) * 1e6;
}

function unevenGroups(n: number): string[] {
  const weights = Array.from({ length: GROUPS }, (_, i) => 1 / (i + 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  const out: string[] = [];
  weights.forEach((w, i) => {
    const count = Math.max(1, Math.round((w / sum) * n));
    for (let j = 0; j < count && out.length < n; j++) out.push(`g${i}`);
  });
  while (out.length < n) out.push(`g${out.length % GROUPS}`);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Commands Redis ran so far, scripts' own commands included (not the scripts nor INFO). */
async function commands(): Promise<number> {
  const info = await admin.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    if (!['evalsha', 'eval', 'info'].includes(m[1]!)) n += Number(m[2]);
  }
  return n;
}

interface Cost {
  claim: number;
  finish: number;
  claimCommands: number;
  finishCommands: number;
}

async function run(groups: (string | undefined)[], shuffled = false): Promise<Cost> {
  const prefix = `bench-gscripts-${randomBytes(4).toString('hex')}`;
  const backend = redisTaskBackend({ url: REDIS_URL, prefix });
  const queue = 'bench';
  try {
    const now = Date.now();
    for (let i = 0; i < groups.length; i += 1_000) {
      const tasks: NewTask[] = groups.slice(i, i + 1_000).map((g, j) => ({
        id: `t${i + j}`,
        name: 'bench',
        queue,
        payload: '{"a":1}',
        // Random priorities: tasks leave in an order unrelated to the order they were written.
        priority: shuffled ? Math.floor(Math.random() * 101) : 0,
        runAt: now,
        maxRetries: 0,
        backoff: { type: 'fixed', delayMs: 0, factor: 1, maxDelayMs: 0, jitter: 0 },
        timeoutMs: 0,
        dependsOn: [],
        failOnDependencyFailure: true,
        createdAt: now,
        ...(g === undefined ? {} : { group: g }),
      }));
      await backend.add(tasks);
    }
    // All claims first, then all finishes: each phase's CPU is read once, so that reading it
    // costs nothing per call.
    const batches: ClaimedTask[][] = [];
    let left = groups.length;
    const ca = await commands();
    const a = await cpuUs();
    while (left > 0) {
      const claimed = await backend.claim(queue, 'w1', BATCH, 600_000);
      if (claimed.length === 0) throw new Error('nothing claimed while tasks are left');
      batches.push(claimed);
      left -= claimed.length;
    }
    const b = await cpuUs();
    const cb = await commands();
    for (const claimed of batches) {
      const outcomes: AttemptOutcome[] = claimed.map((c) => ({
        kind: 'completed',
        id: c.task.id,
        token: c.token,
        result: undefined,
        finishedAt: Date.now(),
      }));
      await backend.finish(queue, outcomes, outcomes);
    }
    const c = await cpuUs();
    const cc = await commands();
    const claimUs = b - a;
    const finishUs = c - b;
    const n = groups.length;
    return {
      claim: claimUs / n,
      finish: finishUs / n,
      // Less the INFO calls between phases (one each for the CPU and one for the commands).
      claimCommands: (cb - ca - 1) / n,
      finishCommands: (cc - cb - 1) / n,
    };
  } finally {
    await backend.close();
    await unlinkKeys(admin, `${prefix}*`);
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const results: Record<string, Cost[]> = {
  ungrouped: [],
  'ungrouped, random priorities': [],
  grouped: [],
};
for (let round = 0; round < ROUNDS; round++) {
  results.ungrouped!.push(await run(Array.from({ length: TASKS }, () => undefined)));
  results['ungrouped, random priorities']!.push(
    await run(
      Array.from({ length: TASKS }, () => undefined),
      true,
    ),
  );
  results.grouped!.push(await run(unevenGroups(TASKS)));
}
console.log(`${TASKS} tasks, ${BATCH} per claim, ${ROUNDS} rounds (median); Redis CPU µs per task`);
console.log('| variant | CLAIM | FINISH | both | commands per task (CLAIM + FINISH) |');
console.log('|---|---:|---:|---:|---:|');
for (const name of Object.keys(results)) {
  const c = median(results[name]!.map((r) => r.claim));
  const f = median(results[name]!.map((r) => r.finish));
  const cc = median(results[name]!.map((r) => r.claimCommands));
  const fc = median(results[name]!.map((r) => r.finishCommands));
  console.log(
    `| ${name} | ${c.toFixed(2)} | ${f.toFixed(2)} | ${(c + f).toFixed(2)} | ${cc.toFixed(2)} + ${fc.toFixed(2)} |`,
  );
}
await admin.quit();
