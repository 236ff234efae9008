import { MemoryHistoryStore } from '../../../src/analytics/history/memory-store.js';
import type { MetricRollup, OperationRollup } from '../../../src/analytics/history/types.js';
import { DurationHistogram } from '../../../src/performance/histogram.js';

export const MINUTE = 60_000;

/** A deterministic generator in [0, 1). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function operation(
  name: string,
  durationsMs: readonly number[],
  errors = 0,
  labels: Record<string, string> = {},
): OperationRollup {
  const histogram = new DurationHistogram();
  for (const ms of durationsMs) histogram.record(ms * 1000);
  const sparse = histogram.toSparse();
  return {
    name,
    labels,
    count: durationsMs.length,
    errors,
    slow: 0,
    sumMs: durationsMs.reduce((a, b) => a + b, 0),
    histogram: { indexes: Array.from(sparse.indexes), counts: Array.from(sparse.counts) },
  };
}

export const gauge = (
  name: string,
  value: number,
  labels: Record<string, string> = {},
): MetricRollup => ({
  name,
  labels,
  samples: 6,
  sum: value * 6,
  min: value,
  max: value,
});

export const counter = (
  name: string,
  value: number,
  labels: Record<string, string> = {},
): MetricRollup => ({
  name,
  labels,
  samples: 6,
  sum: value,
  min: 0,
  max: value,
});

/** What {@link workload} wrote, to check the reports against. */
export interface Written {
  store: MemoryHistoryStore;
  /** Start of the first minute written and end of the last. */
  from: number;
  to: number;
  calls: Record<string, number>;
  errors: number;
  hits: number;
  misses: number;
  /** Heap used at minute i: HEAP_BASE + HEAP_SLOPE * i. */
  heapAt: (minute: number) => number;
}

export const HEAP_BASE = 200e6;
export const HEAP_SLOPE = 0.5e6;

/**
 * `minutes` minutes of a service ending at the last whole hour: two endpoints (one slow), two
 * database statements, a cache, a task queue whose depth grows, and a heap growing by
 * HEAP_SLOPE bytes a minute.
 */
export async function workload(minutes = 120, seed = 1): Promise<Written> {
  const store = new MemoryHistoryStore();
  const next = random(seed);
  // Ending on the hour, as a report's default range does.
  const to = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const from = to - minutes * MINUTE;
  const written: Written = {
    store,
    from,
    to,
    calls: { 'GET /users': 0, 'POST /orders': 0 },
    errors: 0,
    hits: 0,
    misses: 0,
    heapAt: (i) => HEAP_BASE + HEAP_SLOPE * i,
  };
  for (let i = 0; i < minutes; i++) {
    const at = from + i * MINUTE;
    const users = Array.from({ length: 20 }, () => 5 + next() * 10);
    const orders = Array.from({ length: 5 }, () => 150 + next() * 100);
    const failed = i % 10 === 0 ? 1 : 0;
    written.calls['GET /users']! += users.length;
    written.calls['POST /orders']! += orders.length;
    written.errors += failed;
    const hits = 80 + Math.round(next() * 10);
    const misses = 20;
    written.hits += hits;
    written.misses += misses;
    await store.write({
      id: `test:${at}`,
      at,
      operations: [
        operation('GET /users', users),
        operation('POST /orders', orders, failed),
        operation('db.query', [2, 3, 2], 0, { statement: 'SELECT * FROM users WHERE id = ?' }),
        operation('db.query', [40, 60], 0, {
          statement: 'UPDATE orders SET state = ? WHERE id = ?',
        }),
      ],
      metrics: [
        gauge('system.memory.heap_used', written.heapAt(i) + (next() - 0.5) * 1e5),
        gauge('system.memory.rss', 400e6),
        gauge('system.event_loop.delay_p99_ms', 12),
        gauge('system.cpu.percent', 30),
        counter('cache.hits', hits),
        counter('cache.misses', misses),
        counter('cache.tier.hits', hits, { tier: 'memory' }),
        counter('cache.tier.misses', misses, { tier: 'memory' }),
        gauge('tasks.queue.waiting', 10 + i, { queue: 'emails' }),
        gauge('tasks.queue.dead', 0, { queue: 'emails' }),
        counter('tasks.completed', 7),
        counter('tasks.failed', 1),
      ],
    });
  }
  return written;
}
