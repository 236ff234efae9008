// The recent samples a trend or forecast detector fits its line on: a ring of at most 60 points
// covering the window. Samples closer together than 1/60 of the window are averaged into one
// point, so the ring covers the whole window whatever the sampling rate.
import { MAX_POINTS, MedianHint, theilSenIntercept, theilSenSlope } from './theil-sen.js';

const MINUTE_MS = 60_000;
const fitTimes = new Float64Array(MAX_POINTS);
const fitValues = new Float64Array(MAX_POINTS);

/**
 * A Theil–Sen line through the points of a window; time in minutes, 0 at the newest point.
 * Written in place by {@link SampleWindow.fit}: a detector keeps one and refits it at each
 * evaluation.
 */
export class LineFit {
  /** Units per minute. */
  slope = 0;
  /** The line's value at the newest point. */
  intercept = 0;
  /** The newest point's time, epoch ms. */
  newestAt = 0;
  /** From the oldest point fitted to the newest, ms. */
  spanMs = 0;
  points = 0;
}

/**
 * A bounded ring of (time, value) points. Samples out of order (older than the latest) and
 * non-finite samples are ignored.
 *
 * @example
 * ```ts
 * const window = new SampleWindow(30 * 60_000);
 * window.add(Date.now(), 42);
 * const n = window.collect(Date.now(), times, values); // minutes relative to the newest point
 * ```
 */
export class SampleWindow {
  readonly #windowMs: number;
  readonly #slotMs: number;
  /** Times (epoch ms) in [0, MAX_POINTS), values in [MAX_POINTS, 2 * MAX_POINTS). */
  readonly #points = new Float64Array(2 * MAX_POINTS);
  /** Index of the newest point. */
  #head = -1;
  #size = 0;
  /** When the newest point's slot opened, and how many samples it averages. */
  #slotStart = 0;
  #slotCount = 0;
  #lastAt = Number.NEGATIVE_INFINITY;
  #lastValue = Number.NaN;
  /** Where the last fit's medians lay: the next fit, on nearly the same points, looks there. */
  readonly #slopeHint = new MedianHint();
  readonly #interceptHint = new MedianHint();

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
    this.#slotMs = windowMs / MAX_POINTS;
  }

  /** The latest sample's time (epoch ms), `-Infinity` before the first. */
  get lastAt(): number {
    return this.#lastAt;
  }

  /** The latest sample's value (not averaged), `NaN` before the first. */
  get lastValue(): number {
    return this.#lastValue;
  }

  add(at: number, value: number): void {
    if (!Number.isFinite(value) || !Number.isFinite(at) || at < this.#lastAt) return;
    this.#lastAt = at;
    this.#lastValue = value;
    const points = this.#points;
    if (this.#size > 0 && at - this.#slotStart < this.#slotMs) {
      const count = ++this.#slotCount;
      const head = this.#head;
      points[head] = points[head]! + (at - points[head]!) / count;
      points[MAX_POINTS + head] =
        points[MAX_POINTS + head]! + (value - points[MAX_POINTS + head]!) / count;
      return;
    }
    const head = (this.#head + 1) % MAX_POINTS;
    this.#head = head;
    if (this.#size < MAX_POINTS) this.#size++;
    points[head] = at;
    points[MAX_POINTS + head] = value;
    this.#slotStart = at;
    this.#slotCount = 1;
  }

  /**
   * Copies the points of the window ending at `at`, oldest first, into `times` (minutes relative
   * to the newest point, so 0 for it) and `values`; returns how many. Returns 0 unless there are
   * at least two points spanning a quarter of the window or more.
   */
  collect(at: number, times: Float64Array, values: Float64Array): number {
    const points = this.#points;
    const from = at - this.#windowMs;
    let first = this.#size;
    // Walk back from the newest point while it is inside the window.
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head - k + MAX_POINTS) % MAX_POINTS;
      if (points[i]! < from || points[i]! > at) {
        first = k;
        break;
      }
    }
    const count = first;
    if (count < 2) return 0;
    const newest = points[this.#head]!;
    const oldest = points[(this.#head - count + 1 + MAX_POINTS) % MAX_POINTS]!;
    if (newest - oldest < this.#windowMs / 4) return 0;
    for (let k = 0; k < count; k++) {
      const i = (this.#head - count + 1 + k + MAX_POINTS) % MAX_POINTS;
      times[k] = (points[i]! - newest) / MINUTE_MS;
      values[k] = points[MAX_POINTS + i]!;
    }
    return count;
  }

  /**
   * Fits the Theil–Sen line through the window ending at `at` into `line`; false, and `line`
   * left as it was, with fewer than two points spanning a quarter of the window.
   */
  fit(at: number, line: LineFit): boolean {
    const count = this.collect(at, fitTimes, fitValues);
    if (count === 0) return false;
    const slope = theilSenSlope(fitTimes, fitValues, count, this.#slopeHint);
    if (!Number.isFinite(slope)) return false;
    line.slope = slope;
    line.intercept = theilSenIntercept(fitTimes, fitValues, count, slope, this.#interceptHint);
    line.newestAt = this.#points[this.#head]!;
    line.spanMs = -fitTimes[0]! * MINUTE_MS;
    line.points = count;
    return true;
  }
}
