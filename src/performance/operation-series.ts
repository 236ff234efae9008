import { DurationHistogram, type SparseHistogram } from './histogram.js';
import type { WindowName, WindowStats } from './types.js';

/** Length of one fine slot: the 1-minute window is made of these. */
export const SLOT_MS = 10_000;
const SLOTS_PER_MINUTE = 6;
const MINUTE_MS = SLOT_MS * SLOTS_PER_MINUTE;
const FINE_SLOTS_KEPT = SLOTS_PER_MINUTE;
const MINUTES_KEPT = 15;

/** The tallies of one stretch of time. */
interface Tally {
  count: number;
  errors: number;
  slow: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
}

/** A sealed stretch of time: its tallies and a compact histogram. */
interface Sealed extends Tally {
  /** Slot number (fine slots) or minute number (minute slots) since the clock's origin. */
  at: number;
  histogram: SparseHistogram;
}

const emptyTally = (): Tally => ({
  count: 0,
  errors: 0,
  slow: 0,
  sumMs: 0,
  minMs: Number.POSITIVE_INFINITY,
  maxMs: Number.NEGATIVE_INFINITY,
});

function addTally(into: Tally, from: Tally): void {
  into.count += from.count;
  into.errors += from.errors;
  into.slow += from.slow;
  into.sumMs += from.sumMs;
  if (from.minMs < into.minMs) into.minMs = from.minMs;
  if (from.maxMs > into.maxMs) into.maxMs = from.maxMs;
}

/**
 * The statistics of one operation (one name and label set) over rolling windows.
 *
 * Calls are recorded into the live 10-second slot. When a slot ends it is sealed into a compact
 * histogram; six sealed slots make the 1-minute window, and each finished minute is merged into one
 * minute slot, fifteen of which make the 5- and 15-minute windows. A window therefore covers its
 * nominal length plus the part of the current slot (or minute) that has passed, and nothing older,
 * so percentiles follow the traffic instead of freezing into all-time values. Memory per operation
 * is bounded by 21 sealed slots plus two dense histograms, and an idle operation releases its slots.
 *
 * @internal
 */
export class OperationSeries {
  readonly labels: Record<string, string>;
  readonly createdAt: number;
  /** Exact Prometheus bucket counts (not cumulative), one per bound plus +Inf. */
  readonly bucketCounts: Float64Array;
  /** Monotonic time of the last recorded call; -Infinity before the first. */
  lastCallAt = Number.NEGATIVE_INFINITY;

  #slot: number;
  #live: Tally = emptyTally();
  #liveHistogram = new DurationHistogram();
  #fine: Sealed[] = [];
  #minutes: Sealed[] = [];
  #all: Tally = emptyTally();
  #allHistogram = new DurationHistogram();

  constructor(
    readonly name: string,
    labels: Record<string, string>,
    readonly thresholdMs: number,
    readonly bucketBoundsMs: readonly number[],
    now: number,
  ) {
    this.labels = labels;
    this.createdAt = now;
    this.#slot = Math.floor(now / SLOT_MS);
    this.bucketCounts = new Float64Array(bucketBoundsMs.length + 1);
  }

  /** Records one finished call. `now` is the monotonic clock when it finished. */
  record(durationMs: number, error: boolean, slow: boolean, now: number): void {
    if (now >= (this.#slot + 1) * SLOT_MS) this.advance(now);
    const live = this.#live;
    live.count++;
    if (error) live.errors++;
    if (slow) live.slow++;
    live.sumMs += durationMs;
    if (durationMs < live.minMs) live.minMs = durationMs;
    if (durationMs > live.maxMs) live.maxMs = durationMs;
    this.#liveHistogram.record(durationMs * 1000);
    const bounds = this.bucketBoundsMs;
    let bucket = 0;
    while (bucket < bounds.length && durationMs > bounds[bucket]!) bucket++;
    this.bucketCounts[bucket]! += 1;
  }

  /** Seals every slot that has ended by `now`. Safe to call at any time. */
  advance(now: number): void {
    const slot = Math.floor(now / SLOT_MS);
    if (slot <= this.#slot) return;
    if (this.#live.count > 0) {
      const sealed: Sealed = {
        ...this.#live,
        at: this.#slot,
        histogram: this.#liveHistogram.toSparse(),
      };
      addTally(this.#all, this.#live);
      this.#allHistogram.add(sealed.histogram);
      this.#fine.push(sealed);
      this.#live = emptyTally();
      this.#liveHistogram.reset();
    }
    const previousMinute = Math.floor(this.#slot / SLOTS_PER_MINUTE);
    const minute = Math.floor(slot / SLOTS_PER_MINUTE);
    if (minute > previousMinute) {
      // The fine slots of every minute that has ended are merged into one minute slot.
      for (let m = previousMinute; m < minute; m++) this.#sealMinute(m);
    }
    this.#slot = slot;
    this.#fine = this.#fine.filter((s) => s.at >= slot - FINE_SLOTS_KEPT);
    this.#minutes = this.#minutes.filter((s) => s.at >= minute - MINUTES_KEPT);
    if (
      this.#live.count === 0 &&
      this.#fine.length === 0 &&
      this.#liveHistogram.byteLength > 2048
    ) {
      // An idle operation gives back the storage a burst of slow calls made it grow to.
      this.#liveHistogram = new DurationHistogram();
    }
  }

  #sealMinute(minute: number): void {
    const first = minute * SLOTS_PER_MINUTE;
    const slots = this.#fine.filter((s) => s.at >= first && s.at < first + SLOTS_PER_MINUTE);
    if (slots.length === 0) return;
    const tally = emptyTally();
    const histogram = new DurationHistogram(64);
    for (const s of slots) {
      addTally(tally, s);
      histogram.add(s.histogram);
    }
    this.#minutes.push({ ...tally, at: minute, histogram: histogram.toSparse() });
  }

  /** Tallies and histogram of `window`, merged from the slots it covers. */
  collect(window: WindowName, now: number): { tally: Tally; histogram: DurationHistogram } {
    this.advance(now);
    const tally = emptyTally();
    const histogram = new DurationHistogram();
    addTally(tally, this.#live);
    histogram.add(this.#liveHistogram);
    if (window === 'all') {
      addTally(tally, this.#all);
      histogram.add(this.#allHistogram);
      return { tally, histogram };
    }
    const minute = Math.floor(this.#slot / SLOTS_PER_MINUTE);
    if (window === '1m') {
      for (const s of this.#fine) {
        addTally(tally, s);
        histogram.add(s.histogram);
      }
      return { tally, histogram };
    }
    const minutes = window === '5m' ? 5 : 15;
    for (const s of this.#fine) {
      if (s.at >= minute * SLOTS_PER_MINUTE) {
        addTally(tally, s);
        histogram.add(s.histogram);
      }
    }
    for (const s of this.#minutes) {
      if (s.at >= minute - minutes) {
        addTally(tally, s);
        histogram.add(s.histogram);
      }
    }
    return { tally, histogram };
  }

  /** Seconds of time `window` covers at `now`, limited by the age of the series. */
  coveredSeconds(window: WindowName, now: number): number {
    this.advance(now);
    const age = Math.max(0, now - this.createdAt);
    if (window === 'all') return age / 1000;
    const slotStart = this.#slot * SLOT_MS;
    const span =
      window === '1m'
        ? now - (slotStart - FINE_SLOTS_KEPT * SLOT_MS)
        : now -
          (Math.floor(this.#slot / SLOTS_PER_MINUTE) * MINUTE_MS -
            (window === '5m' ? 5 : 15) * MINUTE_MS);
    return Math.min(age, span) / 1000;
  }

  /** Statistics of `window`. */
  stats(window: WindowName, now: number): WindowStats {
    return toWindowStats(this.collect(window, now), this.coveredSeconds(window, now));
  }

  /** Sum and count over all time, for Prometheus. */
  totals(now: number): { count: number; errors: number; slow: number; sumMs: number } {
    this.advance(now);
    return {
      count: this.#all.count + this.#live.count,
      errors: this.#all.errors + this.#live.errors,
      slow: this.#all.slow + this.#live.slow,
      sumMs: this.#all.sumMs + this.#live.sumMs,
    };
  }
}

const PERCENTILES = [50, 95, 99, 99.9] as const;

/** Turns merged tallies into the public statistics shape. */
export function toWindowStats(
  { tally, histogram }: { tally: Tally; histogram: DurationHistogram },
  coveredSeconds: number,
): WindowStats {
  const empty = tally.count === 0;
  // Percentiles come from the histogram (within 1 %), clamped into the exact min and max.
  const [p50, p95, p99, p999] = histogram.percentiles(PERCENTILES);
  const at = (micros: number | undefined) =>
    empty || micros === undefined
      ? null
      : Math.min(tally.maxMs, Math.max(tally.minMs, micros / 1000));
  return {
    count: tally.count,
    errors: tally.errors,
    errorRate: empty ? 0 : tally.errors / tally.count,
    slow: tally.slow,
    min: empty ? null : tally.minMs,
    max: empty ? null : tally.maxMs,
    mean: empty ? null : tally.sumMs / tally.count,
    p50: at(p50),
    p95: at(p95),
    p99: at(p99),
    p999: at(p999),
    totalMs: tally.sumMs,
    throughput: coveredSeconds > 0 ? tally.count / coveredSeconds : 0,
    coveredSeconds,
  };
}

/** @internal Merges several collected windows (the label sets of one name). */
export function mergeCollected(parts: { tally: Tally; histogram: DurationHistogram }[]): {
  tally: Tally;
  histogram: DurationHistogram;
} {
  const tally = emptyTally();
  const histogram = new DurationHistogram();
  for (const part of parts) {
    addTally(tally, part.tally);
    histogram.add(part.histogram);
  }
  return { tally, histogram };
}

/** @internal The key of the series of operation `name` with `labels` (checked, in order). */
export function seriesKey(name: string, labels: Record<string, string>): string {
  let key = name;
  for (const label in labels) key += `\u0000${label}\u0001${labels[label]}`;
  return key;
}
