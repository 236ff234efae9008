// One baseline per hour of the week (UTC), so that a peak which recurs every day or every week is
// compared with the same hour of the days before: 168 cells of three float32, and the mean and
// deviation of each hour of the day yesterday, under 3 KB in all.

const HOURS = 168;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A cell judges its own samples as outliers (and clips them) once it holds this many. */
const CELL_ROBUST_AFTER = 8;
/**
 * An outlier moves a cell's level as if it lay on the bar, with this many times a normal sample's
 * weight: a lasting change of the hour's pattern is absorbed over weeks, while an incident of up
 * to about an hour leaves no echo in the same hour a week later.
 */
const OUTLIER_WEIGHT = 2;
// Per hour of the day: the day number, running mean, mean absolute deviation and sample count of
// its latest day, and the same of the day before that one.
const DAY = 0;
const MEAN = 1;
const DEV = 2;
const COUNT = 3;
const PREVIOUS = 4;
const DAY_FIELDS = 8;

/**
 * The per-hour-of-week level and spread of one series. A cell's level is the mean of its hour
 * over about the last two weeks; its spread, the mean absolute deviation around it, so a ramp
 * within the hour counts as spread rather than as an anomaly.
 *
 * @example
 * ```ts
 * const season = new SeasonalBaseline();
 * if (season.judge(at, value, 30)) use(season.judged, season.expected);
 * season.learn(at, value, bar, memory);
 * ```
 */
export class SeasonalBaseline {
  /** level, absolute deviation, sample count, for each hour of the week. */
  readonly #cells = new Float32Array(HOURS * 3);
  readonly #days = new Float32Array(24 * DAY_FIELDS).fill(Number.NaN);
  /** The score and level of the last `judge` that returned true. */
  judged = 0;
  expected = 0;

  /**
   * Scores `value` against the closest of: its hour of the week, the hours either side of it (a
   * pattern an hour early or late, as daylight saving time moves it, is not an anomaly), and the
   * same hour yesterday (a new daily pattern is normal from its second day). Keeps the closest
   * score and level in `judged` and `expected`. False, and nothing kept, while the hour of the
   * week holds fewer than `ready` samples; the others count once they hold `ready`.
   */
  judge(at: number, value: number, ready: number): boolean {
    const hour = hourOfWeek(at);
    if (this.#count(hour) < ready) return false;
    this.judged = this.#score(hour, value);
    this.expected = this.#cells[hour * 3]!;
    this.#closer((hour + HOURS - 1) % HOURS, value, ready);
    this.#closer((hour + 1) % HOURS, value, ready);
    const days = this.#days;
    const d = (hour % 24) * DAY_FIELDS;
    const today = Math.floor(at / DAY_MS);
    // The first sample of the hour today finds yesterday as the latest day, later ones as the one
    // before it.
    const y =
      days[d + DAY] === today - 1 ? d : days[d + PREVIOUS + DAY] === today - 1 ? d + PREVIOUS : -1;
    if (y >= 0 && days[y + COUNT]! >= ready) {
      const mean = days[y + MEAN]!;
      const dev = Math.max(days[y + DEV]!, this.#cells[hour * 3 + 1]!);
      const score = (value - mean) / spread(mean, dev);
      if (Math.abs(score) < Math.abs(this.judged)) {
        this.judged = score;
        this.expected = mean;
      }
    }
    return true;
  }

  /**
   * Learns `value` into its hour of the week and its hour of the day. `bar` is the score beyond
   * which a sample is an outlier for the hour of the week: it moves the level as if it lay on the
   * bar (see OUTLIER_WEIGHT) and leaves the spread alone. `memory` is how many recent samples of
   * the hour the cell averages over.
   */
  learn(at: number, value: number, bar: number, memory: number): void {
    this.#learnDay(at, value);
    const cells = this.#cells;
    const i = hourOfWeek(at) * 3;
    const n = cells[i + 2]! + 1;
    cells[i + 2] = n;
    if (n === 1) {
      cells[i] = value;
      cells[i + 1] = 0;
      return;
    }
    const level = cells[i]!;
    const dev = cells[i + 1]!;
    const r = value - level;
    const sigma = spread(level, dev);
    const a = n < memory ? 1 / n : 1 / memory;
    if (n > CELL_ROBUST_AFTER && Math.abs(r) > bar * sigma) {
      cells[i] = level + Math.min(1, OUTLIER_WEIGHT * a) * Math.sign(r) * bar * sigma;
    } else {
      cells[i] = level + a * r;
      cells[i + 1] = dev + (Math.abs(r) - dev) / Math.min(n - 1, memory);
    }
  }

  /** Keeps the plain mean and deviation of each hour of the day, today and the day before. */
  #learnDay(at: number, value: number): void {
    const days = this.#days;
    const d = (hourOfWeek(at) % 24) * DAY_FIELDS;
    const today = Math.floor(at / DAY_MS);
    if (days[d + DAY] !== today) {
      days.copyWithin(d + PREVIOUS, d, d + PREVIOUS);
      days[d + DAY] = today;
      days[d + MEAN] = value;
      days[d + DEV] = 0;
      days[d + COUNT] = 1;
      return;
    }
    const n = days[d + COUNT]! + 1;
    const mean = days[d + MEAN]!;
    days[d + COUNT] = n;
    days[d + MEAN] = mean + (value - mean) / n;
    days[d + DEV] = days[d + DEV]! + (Math.abs(value - mean) - days[d + DEV]!) / (n - 1);
  }

  /** Keeps `hour`'s score and level when it is closer than the ones kept so far. */
  #closer(hour: number, value: number, ready: number): void {
    if (this.#count(hour) < ready) return;
    const score = this.#score(hour, value);
    if (Math.abs(score) < Math.abs(this.judged)) {
      this.judged = score;
      this.expected = this.#cells[hour * 3]!;
    }
  }

  #count(hour: number): number {
    return this.#cells[hour * 3 + 2]!;
  }

  #score(hour: number, value: number): number {
    const i = hour * 3;
    const level = this.#cells[i]!;
    return (value - level) / spread(level, this.#cells[i + 1]!);
  }
}

/** The hour of the week (0 to 167) of epoch milliseconds `at`, in UTC. */
function hourOfWeek(at: number): number {
  return Math.floor(at / HOUR_MS) % HOURS;
}

/** Converts a mean absolute deviation to a Gaussian-comparable spread: σ = √(π/2) × mean |r|. */
export const SPREAD_SCALE = 1.2533141373155;
/** The spread is never below this share of the level: a flat series does not fire on a ripple. */
export const SPREAD_FLOOR = 0.01;
/** Nor below this absolute value (a series flat at zero). */
export const SPREAD_MIN = 1e-9;

/** The spread of a baseline with this level and mean absolute deviation. */
export function spread(level: number, dev: number): number {
  const s = SPREAD_SCALE * dev;
  const floor = SPREAD_FLOOR * Math.abs(level);
  return Math.max(s, floor, SPREAD_MIN);
}
