// The bucket arithmetic under the history: differences of running totals, merges, and percentiles
// read exactly as the performance monitor's histogram reads them.
import { describe, expect, it } from 'vitest';
import {
  BucketMerger,
  mergeSparse,
  normalizeBuckets,
  sparseOf,
  subtractBuckets,
} from '../../../src/analytics/history/buckets.js';
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

  it('merges sparse histograms bucket by bucket', () => {
    const a = histogramOf([1, 5, 5]).toSparse();
    const b = histogramOf([5, 9000]).toSparse();
    const merged = mergeSparse(a, b);
    expect(merged.total).toBe(5);
    const reference = histogramOf([1, 5, 5, 5, 9000]).toSparse();
    expect(Array.from(merged.indexes)).toEqual(Array.from(reference.indexes));
    expect(Array.from(merged.counts)).toEqual(Array.from(reference.counts));
    expect(sparseOf({ indexes: [3, 7], counts: [2, 5] }).total).toBe(7);
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
