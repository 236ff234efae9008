// Merging what instances published: counts add up, percentiles come from the summed buckets (equal
// to one histogram of every sample), rates add up, and empty or missing parts are harmless.
import { describe, expect, it } from 'vitest';
import { mergeCache, mergeOperations, mergeTasks } from '../../../src/analytics/cluster/merge.js';
import type { InstanceSnapshot, PublishedWindow } from '../../../src/analytics/cluster/types.js';
import { DurationHistogram } from '../../../src/performance/histogram.js';

function windowOf(micros: number[], coveredSeconds = 60): PublishedWindow {
  const histogram = new DurationHistogram();
  for (const m of micros) histogram.record(m);
  const sparse = histogram.toSparse();
  return {
    count: micros.length,
    errors: 0,
    slow: 0,
    sumMs: micros.reduce((a, b) => a + b, 0) / 1000,
    minMs: micros.length === 0 ? null : Math.min(...micros) / 1000,
    maxMs: micros.length === 0 ? null : Math.max(...micros) / 1000,
    coveredSeconds,
    indexes: Array.from(sparse.indexes),
    counts: Array.from(sparse.counts),
  };
}

function snapshot(
  id: string,
  micros: number[],
  extra: Partial<InstanceSnapshot> = {},
): InstanceSnapshot {
  const w = windowOf(micros);
  return {
    instance: { id, host: 'h', pid: 1, startedAt: '', lastSeenAt: '' },
    operations: [{ name: 'op', labels: {}, windows: { '1m': w, '5m': w, '15m': w, all: w } }],
    cache: null,
    tasks: null,
    ...extra,
  };
}

describe('mergeOperations', () => {
  it('answers the percentiles of one histogram of every sample, and sums the rates', () => {
    const a = Array.from({ length: 1000 }, (_, i) => 1000 + i * 7);
    const b = Array.from({ length: 50 }, (_, i) => 400_000 + i * 9_000);
    const [op] = mergeOperations([snapshot('a', a), snapshot('b', b)]);
    const one = new DurationHistogram();
    for (const m of [...a, ...b]) one.record(m);
    const [p50, p99] = one.percentiles([50, 99]);
    expect(op!.windows['1m'].p50).toBe(p50! / 1000);
    expect(op!.windows['1m'].p99).toBe(p99! / 1000);
    expect(op!.windows['1m'].count).toBe(1050);
    expect(op!.windows['1m'].throughput).toBeCloseTo(1050 / 60, 9);
    expect(op!.instances.map((i) => [i.instance, i.windows.all.count])).toEqual([
      ['a', 1000],
      ['b', 50],
    ]);
  });

  it('gives nulls for a window without calls', () => {
    const [op] = mergeOperations([snapshot('a', [])]);
    expect(op!.windows['1m']).toMatchObject({
      count: 0,
      p99: null,
      min: null,
      mean: null,
      errorRate: 0,
    });
  });
});

describe('mergeCache and mergeTasks', () => {
  it('sum the instances that have the module and skip the others', () => {
    const cache = {
      hits: 3,
      misses: 1,
      tiers: [{ name: 'memory', hits: 3, misses: 1, sets: 1, errors: 0 }],
      namespaces: { users: { hits: 3, misses: 1, sets: 1, loaderErrors: 0 } },
    };
    const tasks = {
      throughput: { completedPerSecond: 1, failedPerSecond: 0.5 },
      totals: { completed: 10, failed: 2, retried: 1, dead: 1 },
    };
    const list = [
      snapshot('a', [], { cache, tasks }),
      snapshot('b', [], { cache, tasks }),
      snapshot('c', []),
    ];
    expect(mergeCache(list)).toMatchObject({
      enabled: true,
      hits: 6,
      misses: 2,
      hitRatio: 0.75,
      tiers: [{ name: 'memory', hits: 6, misses: 2 }],
      namespaces: { users: { hits: 6, misses: 2 } },
    });
    expect(mergeCache(list).byInstance.map((i) => i.instance)).toEqual(['a', 'b']);
    expect(mergeTasks(list)).toMatchObject({
      throughput: { completedPerSecond: 2, failedPerSecond: 1 },
      totals: { completed: 20, failed: 4, retried: 2, dead: 2 },
    });
    expect(mergeCache([snapshot('c', [])])).toMatchObject({ enabled: false, hitRatio: 0 });
  });
});
