import { highestEquivalent, indexOf, MAX_MICROS } from '../../performance/histogram.js';
import type { HistogramBuckets } from '../../performance/types.js';

// Histogram buckets as the history stores and merges them: the performance monitor's layout, kept
// as sparse (index, count) pairs. Adding counts bucket by bucket is exact; only reading a
// percentile out of a bucket costs precision (the bucket's width, under 1 %).

/** The largest bucket index the monitor's histograms use (a value of 2^31 - 1 µs). */
export const MAX_BUCKET_INDEX = indexOf(MAX_MICROS);

/**
 * @internal `current - previous`, bucket by bucket: the calls recorded between two snapshots of
 * one series. `undefined` when a bucket went down, which only a reset of the series can do.
 *
 * @example
 * ```ts
 * subtractBuckets({ indexes: [1, 5], counts: [3, 2] }, { indexes: [1], counts: [1] }); // { indexes: [1, 5], counts: [2, 2] }
 * ```
 */
export function subtractBuckets(
  current: HistogramBuckets,
  previous: HistogramBuckets,
): { indexes: number[]; counts: number[] } | undefined {
  const indexes: number[] = [];
  const counts: number[] = [];
  let j = 0;
  for (let i = 0; i < current.indexes.length; i++) {
    const index = current.indexes[i]!;
    while (j < previous.indexes.length && previous.indexes[j]! < index) {
      // A bucket the previous snapshot had and the current one lacks went down to zero.
      if (previous.counts[j]! > 0) return undefined;
      j++;
    }
    let count = current.counts[i]!;
    if (j < previous.indexes.length && previous.indexes[j] === index)
      count -= previous.counts[j++]!;
    if (count < 0) return undefined;
    if (count > 0) {
      indexes.push(index);
      counts.push(count);
    }
  }
  for (; j < previous.indexes.length; j++) if (previous.counts[j]! > 0) return undefined;
  return { indexes, counts };
}

/**
 * @internal Buckets in any order, with repeats, as ascending unique indexes with positive counts;
 * what a store decodes from its fields or rows goes through here.
 */
export function normalizeBuckets(pairs: Iterable<readonly [number, number]>): {
  indexes: Uint16Array;
  counts: Float64Array;
} {
  const merged = new Map<number, number>();
  for (const [index, count] of pairs) {
    if (!Number.isInteger(index) || index < 0 || index > MAX_BUCKET_INDEX) continue;
    if (!Number.isFinite(count) || count <= 0) continue;
    merged.set(index, (merged.get(index) ?? 0) + count);
  }
  const sorted = [...merged.keys()].sort((a, b) => a - b);
  const indexes = new Uint16Array(sorted.length);
  const counts = new Float64Array(sorted.length);
  sorted.forEach((index, i) => {
    indexes[i] = index;
    counts[i] = merged.get(index)!;
  });
  return { indexes, counts };
}

/**
 * @internal Checks buckets a store is asked to write: parallel arrays, ascending whole indexes in
 * the monitor's range, positive whole counts. Returns the number of calls they hold.
 */
export function checkBuckets(buckets: HistogramBuckets | undefined): number | undefined {
  if (buckets === undefined || buckets === null || typeof buckets !== 'object') return undefined;
  const { indexes, counts } = buckets;
  if (indexes === undefined || counts === undefined || indexes.length !== counts.length) {
    return undefined;
  }
  let total = 0;
  for (let i = 0; i < indexes.length; i++) {
    const index = indexes[i]!;
    const count = counts[i]!;
    if (!Number.isInteger(index) || index < 0 || index > MAX_BUCKET_INDEX) return undefined;
    if (i > 0 && index <= indexes[i - 1]!) return undefined;
    if (!Number.isInteger(count) || count <= 0) return undefined;
    total += count;
  }
  return total;
}

/**
 * @internal Merges histograms into one dense array of counts, reused from merge to merge: the
 * query path adds thousands of small histograms per series and reads a few percentiles of each
 * step, so it works on one array instead of allocating a histogram per step.
 */
export class BucketMerger {
  readonly #counts = new Float64Array(MAX_BUCKET_INDEX + 1);
  #low = MAX_BUCKET_INDEX + 1;
  #high = -1;
  #total = 0;

  add(buckets: HistogramBuckets): void {
    const { indexes, counts } = buckets;
    const n = indexes.length;
    if (n === 0) return;
    const dense = this.#counts;
    for (let i = 0; i < n; i++) {
      dense[indexes[i]!]! += counts[i]!;
      this.#total += counts[i]!;
    }
    if (indexes[0]! < this.#low) this.#low = indexes[0]!;
    if (indexes[n - 1]! > this.#high) this.#high = indexes[n - 1]!;
  }

  /**
   * Adds buckets packed as `index * 2^40 + count`, from `values[start]` on (the memory store's
   * cells).
   */
  addPacked(values: readonly number[], start: number): void {
    const n = values.length;
    if (n <= start) return;
    const dense = this.#counts;
    let total = 0;
    for (let i = start; i < n; i++) {
      const packed = values[i]!;
      // Times 2^-40 rather than divided by 2^40: as exact (a power of two) and several times faster.
      const index = Math.floor(packed * UNPACK);
      const count = packed - index * PACKED_SHIFT;
      dense[index]! += count;
      total += count;
    }
    this.#total += total;
    const low = Math.floor(values[start]! * UNPACK);
    const high = Math.floor(values[n - 1]! * UNPACK);
    if (low < this.#low) this.#low = low;
    if (high > this.#high) this.#high = high;
  }

  /**
   * The values, in microseconds, at `percentiles` (ascending, 0 to 100) of what was added, as
   * `DurationHistogram.percentiles` reads them (the upper end of the bucket holding the rank),
   * then empties the merger. `NaN`s when nothing was added.
   */
  take(percentiles: readonly number[]): number[] {
    const out = new Array<number>(percentiles.length).fill(Number.NaN);
    const total = this.#total;
    if (total > 0) {
      const dense = this.#counts;
      let next = 0;
      let seen = 0;
      let rank = rankOf(percentiles[0]!, total);
      for (let i = this.#low; i <= this.#high && next < percentiles.length; i++) {
        if (dense[i] === 0) continue;
        seen += dense[i]!;
        while (next < percentiles.length && seen >= rank) {
          out[next++] = highestEquivalent(i);
          if (next < percentiles.length) rank = rankOf(percentiles[next]!, total);
        }
      }
      while (next < percentiles.length) out[next++] = highestEquivalent(this.#high);
      dense.fill(0, this.#low, this.#high + 1);
    }
    this.#low = MAX_BUCKET_INDEX + 1;
    this.#high = -1;
    this.#total = 0;
    return out;
  }
}

const PACKED_SHIFT = 2 ** 40;
const UNPACK = 2 ** -40;

/** The rank of a percentile among `total` values, as the performance monitor's histogram has it. */
function rankOf(percentile: number, total: number): number {
  const exact = (percentile / 100) * total;
  return Math.max(1, Math.ceil(exact - Math.abs(exact) * Number.EPSILON * 4));
}
