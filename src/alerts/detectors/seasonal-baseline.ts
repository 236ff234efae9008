// One baseline per hour of the week (UTC), so that a peak which recurs every day or every week is
// compared with the same hour of the days before. 168 cells of three float32: about 2 KB.

const HOURS = 168;
const HOUR_MS = 3_600_000;
/** A cell judges its own samples as outliers (and clips them) once it holds this many. */
const CELL_ROBUST_AFTER = 8;

/**
 * The per-hour-of-week level and spread of one series. A cell's level is the mean of its hour
 * over about the last two weeks; its spread, the mean absolute deviation around it, so a ramp
 * within the hour counts as spread rather than as an anomaly.
 *
 * @example
 * ```ts
 * const season = new SeasonalBaseline();
 * const hour = SeasonalBaseline.hourOf(at);
 * const score = season.score(hour, value);
 * season.learn(hour, value, bar, memory);
 * ```
 */
export class SeasonalBaseline {
  /** level, absolute deviation, sample count, for each hour of the week. */
  readonly #cells = new Float32Array(HOURS * 3);

  /** The hour of the week (0 to 167) of epoch milliseconds `at`, in UTC. */
  static hourOf(at: number): number {
    return Math.floor(at / HOUR_MS) % HOURS;
  }

  /** Samples learned into `hour`. */
  count(hour: number): number {
    return this.#cells[hour * 3 + 2]!;
  }

  /** The level of `hour`. */
  level(hour: number): number {
    return this.#cells[hour * 3]!;
  }

  /** The score, in spreads, of `value` against `hour` (before learning it). */
  score(hour: number, value: number): number {
    const i = hour * 3;
    const level = this.#cells[i]!;
    return (value - level) / spread(level, this.#cells[i + 1]!);
  }

  /**
   * Learns `value` into `hour`. `bar` is the score beyond which a sample is an outlier: it moves
   * the level as if it lay on the bar and leaves the spread alone. `memory` is how many recent
   * samples of the hour the cell averages over.
   */
  learn(hour: number, value: number, bar: number, memory: number): void {
    const cells = this.#cells;
    const i = hour * 3;
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
      cells[i] = level + a * Math.sign(r) * bar * sigma;
    } else {
      cells[i] = level + a * r;
      cells[i + 1] = dev + (Math.abs(r) - dev) / Math.min(n - 1, memory);
    }
  }
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
