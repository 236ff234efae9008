// The bucket arithmetic under the history: differences of running totals, merges, and percentiles
// read exactly as the performance monitor's histogram reads them.
import { describe, expect, it } from 'vitest';
import {
  BucketMerger,
  normalizeBuckets,
  subtractBuckets,
} from '../../../src/analytics/history/buckets.js';
import {
  mergeOperationCells,
  operationCell,
  packedCount,
  packedIndex,
} from '../../../src/analytics/history/memory-cells.js';
import { DurationHistogram } from '../../../src/performance/histogram.js';
import { eighths } from './helpers.js';

const PERCENTILES = [0, 1, 25, 50, 90, 99, 99.9, 99.99, 100];

function histogramOf(samplesMs: readonly number[]): DurationHistogram {
  const histogram = new DurationHistogram();
  for (const ms of samplesMs) histogram.record(ms * 1000);
  return histogram;
}

describe('history buckets', () => {
  it('reads merged percentiles exactly as one histogram of every sample does', () => {
    const parts = [
      eighths(500, 3, 1),
      eighths(80, 900, 2),
      eighths(1, 0.5, 3),
      eighths(3000, 40, 4),
    ];
    const merger = new BucketMerger();
    for (let round = 0; round < 2; round++) {
      // Twice: the merger is empty again after each read.
      for (const part of parts) merger.add(histogramOf(part).toSparse());
      expect(merger.take(PERCENTILES)).toEqual(histogramOf(parts.flat()).percentiles(PERCENTILES));
    }
    expect(merger.take([50])).toEqual([Number.NaN]);
  });

  it('subtracts running totals into the buckets in between, or tells a reset', () => {
    const before = histogramOf([1, 2, 2, 50]);
    const after = histogramOf([1, 2, 2, 50, 2, 300, 300]);
    const delta = subtractBuckets(after.toSparse(), before.toSparse())!;
    const expected = histogramOf([2, 300, 300]).toSparse();
    expect(delta).toEqual({
      indexes: Array.from(expected.indexes),
      counts: Array.from(expected.counts),
    });
    expect(subtractBuckets(histogramOf([1]).toSparse(), before.toSparse())).toBeUndefined();
    expect(
      subtractBuckets(histogramOf([1, 2, 2, 51]).toSparse(), before.toSparse()),
    ).toBeUndefined();
  });

  it("packs buckets in the memory store's cells and merges them by index", () => {
    const cellOf = (samples: number[], errors: number) => {
      const { indexes, counts } = histogramOf(samples).toSparse();
      return operationCell({
        name: 'op',
        labels: {},
        count: samples.length,
        errors,
        slow: 0,
        sumMs: samples.reduce((a, b) => a + b, 0),
        histogram: { indexes, counts },
      });
    };
    const merged = mergeOperationCells(cellOf([1, 5, 5], 1), cellOf([5, 9000], 0));
    expect(merged.slice(0, 4)).toEqual([5, 1, 0, 9016]);
    const reference = histogramOf([1, 5, 5, 5, 9000]).toSparse();
    const buckets = merged.slice(4);
    expect(buckets.map(packedIndex)).toEqual(Array.from(reference.indexes));
    expect(buckets.map(packedCount)).toEqual(Array.from(reference.counts));
    const merger = new BucketMerger();
    merger.addPacked(merged, 4);
    expect(merger.take(PERCENTILES)).toEqual(
      reference && histogramOf([1, 5, 5, 5, 9000]).percentiles(PERCENTILES),
    );
  });

  it('normalizes decoded buckets: sorted, repeats added, nonsense dropped', () => {
    const { indexes, counts } = normalizeBuckets([
      [900, 1],
      [12, 2],
      [900, 3],
      [-1, 4],
      [99_999, 1],
      [13, 0],
      [1.5, 1],
    ]);
    expect(Array.from(indexes)).toEqual([12, 900]);
    expect(Array.from(counts)).toEqual([2, 4]);
  });
});
