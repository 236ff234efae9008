/**
 * npm run bench:maintenance
 *
 * `optimize_database` and `cleanup_old_content` on a PostgreSQL table of BENCH_ROWS rows (default
 * 1,000,000; half of them older than 90 days), each run through a real instance
 * (`createEnterprise` + `enterprise.maintenance.run`) while a writer inserts a row into the same
 * table every ~5 ms and times each insert. Beside them, in the same run, what a user would write
 * otherwise on an identical table: a plain `VACUUM ANALYZE` and one
 * `DELETE ... WHERE created_at < now() - interval '90 days'`.
 *
 * Per step: time to finish, rows affected, inserts done, insert wait p50 / p99 / max, and the goal
 * (no insert waits more than 100 ms). A sampler reads pg_stat_activity every 10 ms and counts the
 * samples where the writer waited on a lock. The writer alone (no maintenance) is measured first
 * as the floor.
 *
 * PostgreSQL at BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test). The bench
 * creates its own schema (random suffix) with autovacuum off on its tables, and drops it at the
 * end. BENCH_BATCH (5000) rows per cleanup batch; the cleanup's pause is its default (50 ms).
 * Each table is built right before its VACUUM step and each step starts after a CHECKPOINT; ours
 * runs before the plain statement of its pair, and BENCH_NAIVE_FIRST=1 swaps them.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createEnterprise } from '../src/index.js';

const URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 5_000);
const DEAD_SHARE = 0.3; // share of rows deleted up front, so that VACUUM has dead tuples to clear
const INSERT_EVERY_MS = 5;
const GOAL_MS = 100;

const schema = `bench_maint_${randomUUID().slice(0, 8)}`;
const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent } as never;

interface Step {
  step: string;
  seconds: number;
  affected: string;
  inserts: number;
  waits: number[];
  lockSamples: number;
  samples: number;
  /** What the writer's backend waited on when a sample found its insert under way. */
  waitEvents: Map<string, number>;
}

/** Inserts one row every ~5 ms into `table` until stopped, timing each insert. */
function startWriter(client: pg.Client, table: string) {
  const waits: number[] = [];
  let running = true;
  const done = (async () => {
    let next = performance.now();
    while (running) {
      const t0 = performance.now();
      await client.query(`INSERT INTO ${table} (created_at, body) VALUES (now(), 'live')`);
      waits.push(performance.now() - t0);
      next += INSERT_EVERY_MS;
      const delay = next - performance.now();
      if (delay > 0) await sleep(delay);
      else next = performance.now();
    }
  })();
  return {
    waits,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Samples every 10 ms whether the writer's backend waits on a lock. */
function startSampler(pool: pg.Pool, writerPid: number) {
  let running = true;
  let samples = 0;
  let lockSamples = 0;
  const waitEvents = new Map<string, number>();
  const done = (async () => {
    while (running) {
      const { rows } = await pool.query(
        `SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE pid = $1`,
        [writerPid],
      );
      samples++;
      const row = rows[0];
      if (row?.wait_event_type === 'Lock') lockSamples++;
      if (row?.state === 'active' && row.wait_event_type) {
        const key = `${row.wait_event_type}:${row.wait_event}`;
        waitEvents.set(key, (waitEvents.get(key) ?? 0) + 1);
      }
      await sleep(10);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return { samples, lockSamples, waitEvents };
    },
  };
}

async function measured(
  name: string,
  table: string,
  writer: pg.Client,
  writerPid: number,
  pool: pg.Pool,
  work: () => Promise<string>,
): Promise<Step> {
  // Every step starts with no dirty buffers left by the previous one (superuser or
  // pg_checkpoint role; skipped otherwise).
  await pool.query('CHECKPOINT').catch(() => {});
  const w = startWriter(writer, table);
  const s = startSampler(pool, writerPid);
  await sleep(200); // the writer is under way before the step starts
  const t0 = performance.now();
  const affected = await work();
  const seconds = (performance.now() - t0) / 1000;
  await sleep(200);
  await w.stop();
  const { samples, lockSamples, waitEvents } = await s.stop();
  return {
    step: name,
    seconds,
    affected,
    inserts: w.waits.length,
    waits: w.waits,
    lockSamples,
    samples,
    waitEvents,
  };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function createTable(client: pg.Client, table: string): Promise<void> {
  // Time-ordered rows, the oldest first: created_at runs from 180 days ago to now, so the first
  // half is older than 90 days. An index on created_at, as a retention query would have.
  await client.query(
    `CREATE TABLE ${table} (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, body text NOT NULL)
     WITH (autovacuum_enabled = false)`,
  );
  await client.query(
    `INSERT INTO ${table} (created_at, body)
     SELECT now() - interval '180 days' + (g::float8 / $1) * interval '180 days', repeat('x', 60)
     FROM generate_series(0, $1 - 1) g`,
    [ROWS],
  );
  // PostgreSQL 15 sends a session's statistics lazily: flushed now, so that the insert's counts
  // do not land after ANALYZE and double the table's live tuples in pg_stat_user_tables.
  await flushStats(client);
  await client.query(`CREATE INDEX ON ${table} (created_at)`);
  await client.query(`ANALYZE ${table}`);
  // Dead tuples spread over the table: DEAD_SHARE of the rows, in both halves.
  await client.query(`DELETE FROM ${table} WHERE id % 10 < $1`, [Math.round(DEAD_SHARE * 10)]);
  await flushStats(client);
}

async function flushStats(client: pg.Client): Promise<void> {
  await client.query('SELECT pg_stat_force_next_flush()').catch(() => {});
  await client.query('SELECT 1');
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: URL, max: 4 });
  const setup = new pg.Client({ connectionString: URL });
  const writer = new pg.Client({ connectionString: URL });
  await setup.connect();
  await writer.connect();
  const writerPid = Number((await writer.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const enterprise = createEnterprise({ logger: silent, env: {}, alerts: false });
  const steps: Step[] = [];
  const notes: string[] = [];
  const ours = `${schema}.ours`;
  const naive = `${schema}.naive`;
  const started = performance.now();
  console.log(
    `load average at start: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  try {
    await setup.query(`CREATE SCHEMA ${schema}`);
    const build = async (table: string) => {
      const t0 = performance.now();
      await createTable(setup, table);
      console.log(
        `${table}: ${ROWS} rows loaded, ${DEAD_SHARE * 100}% deleted in ${fmt((performance.now() - t0) / 1000)} s`,
      );
    };
    await setup.query(
      `CREATE TABLE ${schema}.floor (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, body text NOT NULL)`,
    );
    const tasks = enterprise.maintenance.enable({
      database: { postgres: pool },
      optimize_database: { schemas: [schema], exclude: [naive], schedule: false },
      cleanup_old_content: {
        schedule: false,
        rules: [{ table: ours, timestampColumn: 'created_at', olderThan: '90d', batchSize: BATCH }],
      },
    });

    steps.push(
      await measured(
        'writer alone (floor)',
        `${schema}.floor`,
        writer,
        writerPid,
        pool,
        async () => {
          await sleep(3_000);
          return '-';
        },
      ),
    );

    const optimizeOurs = () =>
      measured('optimize_database', ours, writer, writerPid, pool, async () => {
        const dry = await tasks.run('optimize_database', { dryRun: true });
        notes.push(
          `optimize_database dry run (statistics and index report, no VACUUM): ${fmt(dry.durationMs / 1000, 2)} s`,
        );
        const t0 = performance.now();
        const result = await tasks.run('optimize_database');
        notes.push(
          `optimize_database run: ${fmt(result.durationMs / 1000, 2)} s by its own record, ${fmt((performance.now() - t0) / 1000, 2)} s awaited`,
        );
        if (!result.ok) throw new Error(`optimize_database failed: ${result.error?.message}`);
        const vacuum =
          (result.details?.postgres as { vacuum?: { dead: number }[] } | undefined)?.vacuum ?? [];
        return `${result.done.vacuumed} vacuumed (${vacuum.reduce((n, t) => n + t.dead, 0)} dead tuples)`;
      });
    const vacuumNaive = () =>
      measured('naive: VACUUM ANALYZE', naive, writer, writerPid, pool, async () => {
        await setup.query(`VACUUM ANALYZE ${naive}`);
        return '1 vacuumed';
      });

    const cleanupOurs = () =>
      measured(`cleanup_old_content (batch ${BATCH})`, ours, writer, writerPid, pool, async () => {
        const result = await tasks.run('cleanup_old_content');
        if (!result.ok) throw new Error(`cleanup_old_content failed: ${result.error?.message}`);
        const rule = (
          result.details?.rules as { deleted: number; batches: number }[] | undefined
        )?.[0] ?? { deleted: 0, batches: 0 };
        return `${rule.deleted} deleted, ${rule.batches} batches`;
      });
    const deleteNaive = () =>
      measured('naive: one DELETE', naive, writer, writerPid, pool, async () => {
        const { rowCount } = await setup.query(
          `DELETE FROM ${naive} WHERE created_at < now() - interval '90 days'`,
        );
        return `${rowCount} deleted`;
      });
    // Which of the pair runs first (the first finds the buffer cache in a different state):
    // BENCH_NAIVE_FIRST=1 runs the plain statements first.
    const naiveFirst = process.env.BENCH_NAIVE_FIRST === '1';
    // Each table is built right before its VACUUM: with both built first, the one built earlier
    // vacuumed 2-3 times slower whatever ran it (likely more of its pages out of shared_buffers).
    for (const [table, step] of naiveFirst
      ? ([
          [naive, vacuumNaive],
          [ours, optimizeOurs],
        ] as const)
      : ([
          [ours, optimizeOurs],
          [naive, vacuumNaive],
        ] as const)) {
      await build(table);
      steps.push(await step());
    }
    if (naiveFirst) steps.push(await deleteNaive(), await cleanupOurs());
    else steps.push(await cleanupOurs(), await deleteNaive());
  } finally {
    await enterprise.shutdown();
    await setup.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((error) => {
      console.error(`could not drop ${schema}:`, error);
    });
    await setup.end();
    await writer.end();
    await pool.end();
  }

  console.log(
    `\nbench:maintenance, ${ROWS} rows, PostgreSQL ${URL.replace(/\/\/[^@]*@/, '//')}, load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}, total ${fmt((performance.now() - started) / 1000)} s\n`,
  );
  const header = [
    'step',
    'time (s)',
    'rows affected',
    'inserts',
    'p50 ms',
    'p99 ms',
    'max ms',
    'lock-wait samples',
    `max < ${GOAL_MS} ms`,
  ];
  const rows = steps.map((s) => {
    const sorted = [...s.waits].sort((a, b) => a - b);
    const max = sorted.at(-1) ?? Number.NaN;
    return [
      s.step,
      fmt(s.seconds, 2),
      s.affected,
      String(s.inserts),
      fmt(quantile(sorted, 0.5), 2),
      fmt(quantile(sorted, 0.99), 2),
      fmt(max, 1),
      `${s.lockSamples}/${s.samples}`,
      max < GOAL_MS ? 'met' : 'missed',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of rows) console.log(line(r));
  for (const note of notes) console.log(note);
  for (const step of steps) {
    const top = [...step.waitEvents].sort((a, b) => b[1] - a[1]).slice(0, 3);
    if (top.length > 0) {
      console.log(
        `${step.step}: the writer's insert was seen waiting on ${top.map(([k, n]) => `${k} ×${n}`).join(', ')} (of ${step.samples} samples)`,
      );
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
