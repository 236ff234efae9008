/**
 * npm run bench:analytics:history
 *
 * A history query for 24 hours at 1-minute steps over 100 label sets of one operation: 1,440
 * points, each the merge of 100 minutes' histograms, from the memory, Redis and PostgreSQL stores
 * (goal under 50 ms from memory). Beside each, the floor: the least any query must do. Memory:
 * every bucket of the same rollups, packed as the store keeps them, decoded and added once; Redis:
 * a bare read of every minute hash of the operation in one pipeline of HGETALL; PostgreSQL: the
 * same rows selected. Nothing is merged in the Redis and PostgreSQL floors.
 *
 * Each rollup has BENCH_BUCKETS non-empty buckets (default 30, what a steady endpoint fills);
 * the stores are filled once (Redis and PostgreSQL take a minute or two), then each query is
 * timed BENCH_ROUNDS times (default 15) after a warm-up, the median reported.
 *
 * Environment: BENCH_ROUNDS (15), BENCH_LABEL_SETS (100), BENCH_HOURS (24), BENCH_BUCKETS (30),
 * BENCH_ONLY (memory,redis,postgres), REDIS_URL (redis://127.0.0.1:6379), DATABASE_URL
 * (postgres://postgres@127.0.0.1:5432/test). Deletes its keys and tables at the end.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  type HistoryStore,
  MemoryHistoryStore,
  type MinuteRollup,
  PostgresHistoryStore,
  RedisHistoryStore,
} from '../src/analytics/history/index.js';
import { BUCKETS_AT, operationCell } from '../src/analytics/history/memory-cells.js';
import { indexOf } from '../src/performance/histogram.js';
import { scanKeys, unlinkKeys } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const LABEL_SETS = Number(process.env.BENCH_LABEL_SETS ?? 100);
const HOURS = Number(process.env.BENCH_HOURS ?? 24);
const BUCKETS = Number(process.env.BENCH_BUCKETS ?? 30);
const ONLY = (process.env.BENCH_ONLY ?? 'memory,redis,postgres').split(',');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const tag = randomBytes(4).toString('hex');
const PREFIX = `bench:history:${tag}`;
const TABLE = `bench_history_${tag}`;
const OPERATION = 'GET /products/:id';
const MINUTE = 60_000;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The minutes to fill: the last HOURS hours up to the current minute (excluded). */
function minutes(): number[] {
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  return Array.from({ length: HOURS * 60 }, (_, i) => end - (HOURS * 60 - i) * MINUTE);
}

/** One minute of the operation: LABEL_SETS label sets, BUCKETS latency buckets each. */
function rollup(at: number): MinuteRollup {
  const operations = Array.from({ length: LABEL_SETS }, (_, set) => {
    const indexes: number[] = [];
    const counts: number[] = [];
    let last = -1;
    for (let b = 0; b < BUCKETS; b++) {
      // Latencies from 1 ms upwards, a few percent apart: distinct, increasing bucket indexes.
      const index = Math.max(last + 1, indexOf(Math.round(1_000 * 1.04 ** (b + (set % 7)))));
      indexes.push(index);
      counts.push(1 + ((at / MINUTE + b + set) % 5));
      last = index;
    }
    const count = counts.reduce((a, c) => a + c, 0);
    return {
      name: OPERATION,
      labels: { instance: `i${set % 10}`, status_class: `${2 + (set % 3)}xx`, shard: `s${set}` },
      count,
      errors: set % 10 === 0 ? 1 : 0,
      slow: 0,
      sumMs: count * 2.5,
      histogram: { indexes, counts },
    };
  });
  return { id: `bench:${tag}:${at}`, at, operations, metrics: [] };
}

async function fill(store: HistoryStore, label: string): Promise<void> {
  const started = performance.now();
  const all = minutes();
  // A few writes in flight: the stores take one rollup per call.
  for (let i = 0; i < all.length; i += 8) {
    await Promise.all(all.slice(i, i + 8).map((at) => store.write(rollup(at))));
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `  filled ${label}: ${all.length} minutes x ${LABEL_SETS} label sets in ${seconds.toFixed(1)} s`,
  );
}

async function time(run: () => Promise<unknown>): Promise<number> {
  await run();
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

function query(store: HistoryStore) {
  const all = minutes();
  return async () => {
    const series = await store.query({
      operation: OPERATION,
      from: all[0]!,
      to: all[all.length - 1]! + MINUTE,
      step: '1m',
    });
    if (series.points.length !== all.length) {
      throw new Error(`expected ${all.length} points, got ${series.points.length}`);
    }
    if (series.points[0]!.count === 0) throw new Error('the first point is empty');
  };
}

interface Row {
  store: string;
  queryMs: number;
  floorMs?: number;
}

async function memoryRow(): Promise<Row> {
  const store = new MemoryHistoryStore({ retention: { minutes: `${HOURS + 1}h`, hours: '7d' } });
  await fill(store, 'memory');
  // The floor: the same rollups as the store keeps them (one packed array each), every bucket
  // decoded and added once into a dense histogram per minute, nothing else.
  const cells = minutes().map((at) => rollup(at).operations.map(operationCell));
  const dense = new Float64Array(4_000);
  const floor = async () => {
    for (const minute of cells) {
      for (const cell of minute) {
        for (let k = BUCKETS_AT; k < cell.length; k++) {
          const packed = cell[k]!;
          const index = Math.floor(packed * 2 ** -40);
          dense[index]! += packed - index * 2 ** 40;
        }
      }
      dense.fill(0);
    }
  };
  return { store: 'memory', queryMs: await time(query(store)), floorMs: await time(floor) };
}

async function redisRow(): Promise<Row> {
  const client = new Redis(REDIS_URL);
  const store = new RedisHistoryStore({ client, prefix: PREFIX, commandTimeoutMs: 30_000 });
  try {
    await fill(store, 'redis');
    const keys = await scanKeys(client, `${PREFIX}:*:m:*`);
    const floor = async () => {
      const pipeline = client.pipeline();
      for (const key of keys) pipeline.hgetall(key);
      await pipeline.exec();
    };
    return { store: 'redis', queryMs: await time(query(store)), floorMs: await time(floor) };
  } finally {
    await unlinkKeys(client, `${PREFIX}:*`);
    await store.close();
    client.disconnect();
  }
}

async function postgresRow(): Promise<Row> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const store = new PostgresHistoryStore({ pool, table: TABLE, timeoutMs: 60_000 });
  try {
    await fill(store, 'postgres');
    const all = minutes();
    const floor = async () => {
      await pool.query(`SELECT * FROM ${TABLE} WHERE resolution = 'm' AND at >= $1 AND at < $2`, [
        all[0],
        all[all.length - 1]! + MINUTE,
      ]);
    };
    // The floor reads the rows the query reads; check it is not empty and sees every row.
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM ${TABLE} WHERE resolution = 'm'`,
    );
    console.log(`  postgres: ${rows[0].n} minute rows`);
    return { store: 'postgres', queryMs: await time(query(store)), floorMs: await time(floor) };
  } finally {
    await store.close();
    for (const suffix of ['', '_series', '_writes']) {
      await pool.query(`DROP TABLE IF EXISTS ${TABLE}${suffix}`).catch(() => undefined);
    }
    await pool.end();
  }
}

async function main(): Promise<void> {
  console.log(
    `history query, ${HOURS} h at 1-minute steps, ${LABEL_SETS} label sets, ${BUCKETS} buckets each; ` +
      `node ${process.version}, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  const rows: Row[] = [];
  if (ONLY.includes('memory')) rows.push(await memoryRow());
  if (ONLY.includes('redis')) rows.push(await redisRow());
  if (ONLY.includes('postgres')) rows.push(await postgresRow());
  console.log('\n| store | query ms (median) | floor: bare read ms (median) | query / floor |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const row of rows) {
    const floor = row.floorMs === undefined ? '-' : row.floorMs.toFixed(1);
    const ratio = row.floorMs === undefined ? '-' : `${(row.queryMs / row.floorMs).toFixed(2)}x`;
    console.log(`| ${row.store} | ${row.queryMs.toFixed(1)} | ${floor} | ${ratio} |`);
  }
  const memory = rows.find((r) => r.store === 'memory');
  if (memory !== undefined) {
    console.log(
      `\ngoal, memory under 50 ms: ${memory.queryMs < 50 ? 'met' : 'not met'} (${memory.queryMs.toFixed(1)} ms)`,
    );
  }
  console.log(
    `\nJSON ${JSON.stringify({ hours: HOURS, labelSets: LABEL_SETS, buckets: BUCKETS, rows })}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
