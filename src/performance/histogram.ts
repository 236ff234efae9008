/**
 * A high-dynamic-range histogram of durations, recorded in whole microseconds.
 *
 * The bucket layout is HdrHistogram's with two significant digits: values below 256 µs have their
 * own bucket, and above that every power of two is split into 128 linear sub-buckets, so any value
 * is known to within 1 % however large it is. Counts live in a typed array that grows to the largest
 * value recorded, so a histogram of a fast operation stays small.
 *
 * Recording is a handful of integer operations. The general-purpose `hdr-histogram-js` spends about
 * 85 ns per `recordValue` on this machine (it computes indexes with `Math.log2` and `Math.pow`), more
 * than the whole per-call budget of the performance decorators, which is why this layout is
 * implemented here; tests check its percentiles against `hdr-histogram-js` on the same data.
 *
 * @internal
 */
export class DurationHistogram {
  /** Counts per bucket index; grows on demand. */
  counts: Float64Array;
  /** Number of values recorded. */
  total = 0;

  constructor(initialLength = 256) {
    this.counts = new Float64Array(initialLength);
  }

  /** Records one duration given in microseconds (fractions are truncated, the range is clamped). */
  record(micros: number): void {
    const index = indexOf(micros);
    if (index >= this.counts.length) this.grow(index + 1);
    this.counts[index]! += 1;
    this.total += 1;
  }

  /** Adds every count of `other` to this histogram. */
  add(other: DurationHistogram | SparseHistogram): void {
    if (other instanceof SparseHistogram) {
      const { indexes, counts } = other;
      const last = indexes.length === 0 ? -1 : indexes[indexes.length - 1]!;
      if (last >= this.counts.length) this.grow(last + 1);
      for (let i = 0; i < indexes.length; i++) this.counts[indexes[i]!]! += counts[i]!;
    } else {
      if (other.counts.length > this.counts.length) this.grow(other.counts.length);
      const source = other.counts;
      for (let i = 0; i < source.length; i++) if (source[i] !== 0) this.counts[i]! += source[i]!;
    }
    this.total += other.total;
  }

  /** Empties the histogram, keeping its storage. */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  /**
   * The value at `percentile` (0 to 100), in microseconds: the highest value of the bucket holding
   * that rank, as HdrHistogram reports it. `NaN` when empty.
   */
  percentile(percentile: number): number {
    if (this.total === 0) return Number.NaN;
    // (99.9 / 100) * 1000 is 999.0000000000001 in floating point: shave that error off before
    // rounding up, or p99.9 of 1000 values would be the maximum.
    const exact = (percentile / 100) * this.total;
    const rank = Math.max(1, Math.ceil(exact - Math.abs(exact) * Number.EPSILON * 4));
    let seen = 0;
    const counts = this.counts;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!;
      if (seen >= rank) return highestEquivalent(i);
    }
    return highestEquivalent(counts.length - 1);
  }

  /** A compact, immutable copy holding only the non-empty buckets. */
  toSparse(): SparseHistogram {
    let used = 0;
    const counts = this.counts;
    for (let i = 0; i < counts.length; i++) if (counts[i] !== 0) used++;
    const indexes = new Uint16Array(used);
    const values = new Float64Array(used);
    let j = 0;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] !== 0) {
        indexes[j] = i;
        values[j++] = counts[i]!;
      }
    }
    return new SparseHistogram(indexes, values, this.total);
  }

  private grow(length: number): void {
    const next = new Float64Array(
      Math.min(MAX_INDEX + 1, Math.max(length, this.counts.length * 2)),
    );
    next.set(this.counts);
    this.counts = next;
  }
}

/** A sealed histogram: the non-empty buckets of a {@link DurationHistogram}, in index order. */
export class SparseHistogram {
  constructor(
    readonly indexes: Uint16Array,
    readonly counts: Float64Array,
    readonly total: number,
  ) {}
}

// Two significant digits: 256 sub-buckets, of which the upper 128 are used above the first bucket.
const SUB_BUCKET_HALF_MAGNITUDE = 7;
const SUB_BUCKET_MASK = 0xff;
const LEADING_ZERO_BASE = 32 - SUB_BUCKET_HALF_MAGNITUDE - 1;
/** The largest value that indexes exactly: 2^31 - 1 µs, about 35 minutes. Larger values are clamped. */
export const MAX_MICROS = 0x7fffffff;
const MAX_INDEX = indexOf(MAX_MICROS);

/** @internal The bucket index of a value in microseconds. */
export function indexOf(micros: number): number {
  const value = micros >= MAX_MICROS ? MAX_MICROS : micros > 0 ? micros | 0 : 0;
  const bucket = LEADING_ZERO_BASE - Math.clz32(value | SUB_BUCKET_MASK);
  return (bucket << SUB_BUCKET_HALF_MAGNITUDE) + (value >>> bucket);
}

/** @internal The lowest value, in microseconds, that falls into bucket `index`. */
export function lowestEquivalent(index: number): number {
  let bucket = (index >> SUB_BUCKET_HALF_MAGNITUDE) - 1;
  let subBucket =
    (index & ((1 << SUB_BUCKET_HALF_MAGNITUDE) - 1)) + (1 << SUB_BUCKET_HALF_MAGNITUDE);
  if (bucket < 0) {
    subBucket -= 1 << SUB_BUCKET_HALF_MAGNITUDE;
    bucket = 0;
  }
  return subBucket * 2 ** bucket;
}

/** @internal The highest value, in microseconds, that falls into bucket `index`. */
export function highestEquivalent(index: number): number {
  const bucket = Math.max(0, (index >> SUB_BUCKET_HALF_MAGNITUDE) - 1);
  return lowestEquivalent(index) + 2 ** bucket - 1;
}
