/**
 * A high-dynamic-range histogram of durations, recorded in whole microseconds.
 *
 * The bucket layout is HdrHistogram's with two significant digits: values below 256 µs have their
 * own bucket, and above that every power of two is split into 128 linear sub-buckets, so any value
 * is known to within 1 % however large it is. Counts live in a typed array that grows to the largest
 * value recorded, so a histogram of a fast operation stays small.
 *
 * Recording is a handful of integer operations, where `hdr-histogram-js` computes indexes with
 * `Math.log2` and `Math.pow` (too slow for the decorators' per-call budget, see docs/benchmarks.md).
 * Tests check the percentiles against `hdr-histogram-js` on the same data.
 *
 * @internal
 */
export class DurationHistogram {
  /** Counts of buckets `offset` to `offset + counts.length - 1`; grows on demand, both ways. */
  #counts: Float64Array;
  /** Bucket index of `#counts[0]`. */
  #offset = 0;
  /** Number of values recorded. */
  total = 0;

  /**
   * @param initialLength - buckets to reserve; the window grows to whatever range is recorded,
   * so a histogram of values that stay close together stays a few hundred bytes.
   */
  constructor(initialLength = 16) {
    this.#counts = new Float64Array(initialLength);
  }

  /** Bytes held by the counts, for memory accounting. */
  get byteLength(): number {
    return this.#counts.byteLength;
  }

  /** Records one duration given in microseconds (fractions are truncated, the range is clamped). */
  record(micros: number): void {
    const index = indexOf(micros);
    if (this.total === 0) this.#offset = Math.max(0, index - (this.#counts.length >> 1));
    let slot = index - this.#offset;
    if (slot < 0 || slot >= this.#counts.length) {
      this.#cover(index, index);
      slot = index - this.#offset;
    }
    this.#counts[slot]! += 1;
    this.total += 1;
  }

  /** Adds every count of `other` to this histogram. */
  add(other: DurationHistogram | SparseHistogram): void {
    if (other.total === 0) return;
    if (other instanceof SparseHistogram) {
      const { indexes, counts } = other;
      this.#cover(indexes[0]!, indexes[indexes.length - 1]!);
      const offset = this.#offset;
      for (let i = 0; i < indexes.length; i++) this.#counts[indexes[i]! - offset]! += counts[i]!;
    } else {
      const source = other.#counts;
      let first = -1;
      let last = -1;
      for (let i = 0; i < source.length; i++) {
        if (source[i] === 0) continue;
        if (first < 0) first = i;
        last = i;
      }
      this.#cover(other.#offset + first, other.#offset + last);
      const shift = other.#offset - this.#offset;
      for (let i = first; i <= last; i++) {
        if (source[i] !== 0) this.#counts[i + shift]! += source[i]!;
      }
    }
    this.total += other.total;
  }

  /** Empties the histogram, keeping its storage. */
  reset(): void {
    this.#counts.fill(0);
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
    const counts = this.#counts;
    let last = 0;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] === 0) continue;
      last = i;
      seen += counts[i]!;
      if (seen >= rank) return highestEquivalent(i + this.#offset);
    }
    return highestEquivalent(last + this.#offset);
  }

  /**
   * Several percentiles in one pass over the buckets; `percentiles` must be in ascending order.
   * Same definition as {@link percentile}.
   */
  percentiles(percentiles: readonly number[]): number[] {
    const out = new Array<number>(percentiles.length).fill(Number.NaN);
    if (this.total === 0) return out;
    const ranks = percentiles.map((p) => {
      const exact = (p / 100) * this.total;
      return Math.max(1, Math.ceil(exact - Math.abs(exact) * Number.EPSILON * 4));
    });
    const counts = this.#counts;
    let seen = 0;
    let next = 0;
    let last = 0;
    for (let i = 0; i < counts.length && next < ranks.length; i++) {
      if (counts[i] === 0) continue;
      last = i;
      seen += counts[i]!;
      while (next < ranks.length && seen >= ranks[next]!) {
        out[next++] = highestEquivalent(i + this.#offset);
      }
    }
    while (next < ranks.length) out[next++] = highestEquivalent(last + this.#offset);
    return out;
  }

  /** A compact, immutable copy holding only the non-empty buckets. */
  toSparse(): SparseHistogram {
    let used = 0;
    const counts = this.#counts;
    for (let i = 0; i < counts.length; i++) if (counts[i] !== 0) used++;
    const indexes = new Uint16Array(used);
    const values = new Float64Array(used);
    let j = 0;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] !== 0) {
        indexes[j] = i + this.#offset;
        values[j++] = counts[i]!;
      }
    }
    return new SparseHistogram(indexes, values, this.total);
  }

  /** Grows the window of buckets so that it covers `first` to `last`, with room to spare. */
  #cover(first: number, last: number): void {
    const start = this.#offset;
    const end = start + this.#counts.length - 1;
    if (this.total === 0 && this.#counts.every((c) => c === 0)) {
      // Empty: re-centre instead of growing.
      const length = Math.max(this.#counts.length, nextPowerOfTwo(last - first + 1));
      if (length !== this.#counts.length) this.#counts = new Float64Array(length);
      this.#offset = Math.max(0, first - ((length - (last - first + 1)) >> 1));
      return;
    }
    if (first >= start && last <= end) return;
    const low = Math.min(first, start);
    const high = Math.max(last, end);
    const span = high - low + 1;
    const length = Math.max(
      span,
      Math.min(MAX_INDEX + 1, Math.max(nextPowerOfTwo(span), this.#counts.length * 2)),
    );
    // Spare room goes to the side that needed to grow.
    const spare = length - span;
    const offset = Math.max(0, first < start ? low - spare : low);
    const next = new Float64Array(length);
    next.set(this.#counts, start - offset);
    this.#counts = next;
    this.#offset = offset;
  }
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
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
