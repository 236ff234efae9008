import type { AnomalyOptions, Detector, DetectorVerdict } from '../types.js';
import { formatValue } from './format.js';
import { SeasonalBaseline, spread } from './seasonal-baseline.js';
import { TailBound } from './tail-bound.js';
import {
  booleanOption,
  checkKeys,
  choiceOption,
  numberOption,
  type OptionSite,
} from './validate.js';

const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * 24 * HOUR_MS;
/** Seasonal cells are allocated once the history spans this long: short-lived series never pay. */
const SEASON_ALLOCATE_AFTER_MS = HOUR_MS;
/** While learning, a sample this many spreads out (once 8 are in) only nudges the baseline. */
const LEARN_CLIP = 8;
/**
 * The spread remembers this many times longer than the level (it needs more samples to settle),
 * and an anomalous sample moves the level this many times less than a normal one.
 */
const SLOWER = 4;

/** The options of an anomaly detector, checked and with their defaults. */
export interface AnomalySettings {
  sensitivity: number;
  minSamples: number;
  direction: 'up' | 'down' | 'both';
  seasonal: boolean;
  /** Values on the quiet side of it never fire (see `AnomalyOptions.floor`); none when undefined. */
  floor: number | undefined;
}

/**
 * Checks `{ anomaly: options }` and fills the defaults; throws AlertRuleError naming the field.
 *
 * @example
 * ```ts
 * anomalySettings({ direction: 'down' }); // { sensitivity: 4, minSamples: 30, direction: 'down', seasonal: true }
 * anomalySettings({ sensitivity: -1 }, 'drop'); // AlertRuleError, field condition.anomaly.sensitivity
 * ```
 */
export function anomalySettings(
  options: AnomalyOptions | undefined,
  rule = 'rule',
): AnomalySettings {
  const site: OptionSite = { rule, path: 'condition.anomaly' };
  const o = checkKeys(options ?? {}, site, [
    'sensitivity',
    'minSamples',
    'direction',
    'seasonal',
    'floor',
  ]);
  const sensitivity =
    o.sensitivity === undefined
      ? 4
      : numberOption(o.sensitivity, site, 'sensitivity', { min: 0, minExclusive: true, max: 100 });
  const minSamples =
    o.minSamples === undefined
      ? 30
      : numberOption(o.minSamples, site, 'minSamples', { min: 2, max: 1_000_000, integer: true });
  const direction =
    o.direction === undefined
      ? 'both'
      : choiceOption(o.direction, site, 'direction', ['up', 'down', 'both'] as const);
  const seasonal = o.seasonal === undefined ? true : booleanOption(o.seasonal, site, 'seasonal');
  const floor = o.floor === undefined ? undefined : numberOption(o.floor, site, 'floor');
  return { sensitivity, minSamples, direction, seasonal, floor };
}

/**
 * Judges each sample against a robust baseline learned from the series itself: an EWMA of the
 * level and an EWMA of the absolute deviation (the spread, scaled to be comparable with a
 * standard deviation). A sample fires when it lies further than the bar: `sensitivity` spreads
 * times a tail factor learned from the series' own noise (smallest for Gaussian noise, larger
 * the heavier its tails). Samples judged anomalous are clipped to the bar and learned at a quarter
 * of the rate, so a spike barely moves the baseline while a lasting shift becomes the new normal
 * over time. With `seasonal`, once a week of history exists, each hour of the week has its own
 * baseline.
 *
 * `evaluate` returns `undefined` until `minSamples` samples have been learned. Non-finite
 * samples are ignored.
 *
 * @example
 * ```ts
 * const detector = anomalyDetector(anomalySettings({ direction: 'down' }));
 * detector.observe(Date.now(), requestsPerSecond);
 * detector.evaluate(Date.now()); // { breached, value, expected: baseline, score: spreads, reason }
 * ```
 */
export function anomalyDetector(settings: AnomalySettings): Detector {
  return new AnomalyDetector(settings);
}

class AnomalyDetector implements Detector {
  readonly #sensitivity: number;
  readonly #minSamples: number;
  readonly #alpha: number;
  /** +1 up, -1 down, 0 both. */
  readonly #direction: number;
  readonly #seasonal: boolean;
  readonly #floor: number | undefined;
  readonly #tail = new TailBound();
  #season: SeasonalBaseline | undefined;
  /** Samples after an anomaly during which the tail does not learn: the baseline is settling. */
  readonly #settle: number;
  #settleUntil = 0;
  #count = 0;
  #firstAt = 0;
  #level = 0;
  #dev = 0;
  // The judgement of the latest sample, kept for judge().
  #value = 0;
  #expected = 0;
  #score = 0;
  #bar = 0;
  #byHour = false;
  // The latest judge(), for verdict().
  #judged = false;
  #judgedBreached = false;
  #judgedValue = 0;
  #judgedExpected = 0;
  #judgedScore = 0;
  #judgedBar = 0;
  #judgedByHour = false;
  /** The bar as last rendered: it changes every 16 samples at most. */
  #barShown = Number.NaN;
  #barText = '';

  constructor(settings: AnomalySettings) {
    this.#sensitivity = settings.sensitivity;
    this.#minSamples = settings.minSamples;
    this.#alpha = 2 / (settings.minSamples + 1);
    this.#settle = Math.ceil(4 / this.#alpha);
    this.#direction = settings.direction === 'up' ? 1 : settings.direction === 'down' ? -1 : 0;
    this.#seasonal = settings.seasonal;
    this.#floor = settings.floor;
  }

  observe(at: number, value: number): void {
    if (!Number.isFinite(value) || !Number.isFinite(at)) return;
    const n = ++this.#count;
    this.#value = value;
    if (n === 1) {
      this.#firstAt = at;
      this.#level = value;
      this.#expected = value;
      return;
    }
    const bar = this.#sensitivity * this.#tail.factor;
    const learning = n <= this.#minSamples;
    let expected = this.#level;
    let score = this.#learnGlobal(value, n, bar, learning);
    let byHour = false;
    if (this.#seasonal) {
      const span = at - this.#firstAt;
      if (this.#season === undefined && span >= SEASON_ALLOCATE_AFTER_MS) {
        this.#season = new SeasonalBaseline();
      }
      const season = this.#season;
      if (season !== undefined) {
        const perHour = span > 0 ? (n * HOUR_MS) / span : 1;
        if (span >= WEEK_MS && season.judge(at, value, readyAfter(this.#minSamples, perHour))) {
          byHour = true;
          expected = season.expected;
          score = season.judged;
        }
        season.learn(at, value, bar, Math.max(this.#minSamples, Math.round(2 * perHour)));
      }
    }
    if (!learning) {
      // The tail learns from normal samples only, and not while the baseline settles after an
      // anomaly: the residuals of its catching up would pass for heavy tails and blind it.
      if (Math.abs(score) > bar) this.#settleUntil = n + this.#settle;
      else if (n > this.#settleUntil) this.#tail.observe(Math.abs(score));
    }
    this.#expected = expected;
    this.#score = score;
    this.#bar = bar;
    this.#byHour = byHour;
  }

  judge(): boolean | undefined {
    if (this.#count <= this.#minSamples) {
      this.#judged = false;
      return undefined;
    }
    const score = this.#score;
    const bar = this.#bar;
    const d = this.#direction;
    const floor = this.#floor;
    // Learning goes on whatever the floor; only the verdict ignores the quiet side of it.
    const quiet =
      floor !== undefined && d !== 0 && (d > 0 ? this.#value <= floor : this.#value >= floor);
    const breached =
      !quiet && (d === 0 ? Math.abs(score) > bar : d > 0 ? score > bar : score < -bar);
    // What verdict() describes, kept apart from the fields the next sample overwrites.
    this.#judged = true;
    this.#judgedBreached = breached;
    this.#judgedValue = this.#value;
    this.#judgedExpected = this.#expected;
    this.#judgedScore = score;
    this.#judgedBar = bar;
    this.#judgedByHour = this.#byHour;
    return breached;
  }

  verdict(): DetectorVerdict | undefined {
    if (!this.#judged) return undefined;
    const score = this.#judgedScore;
    const expected = this.#judgedExpected;
    const bar = this.#judgedBar;
    if (bar !== this.#barShown) {
      this.#barShown = bar;
      this.#barText = formatValue(bar);
    }
    const side = score >= 0 ? 'above' : 'below';
    const baseline = this.#judgedByHour ? 'the seasonal baseline' : 'baseline';
    return {
      breached: this.#judgedBreached,
      value: this.#judgedValue,
      expected,
      score,
      reason: `${formatValue(Math.abs(score))} spreads ${side} ${baseline} ${formatValue(expected)} (bar ${this.#barText})`,
    };
  }

  evaluate(): DetectorVerdict | undefined {
    this.judge();
    return this.verdict();
  }

  /** Scores `value` against the whole-series baseline, then learns it; returns the score. */
  #learnGlobal(value: number, n: number, bar: number, learning: boolean): number {
    const level = this.#level;
    const dev = this.#dev;
    const sigma = spread(level, dev);
    const r = value - level;
    const score = r / sigma;
    if (learning) {
      // Running means: every early sample counts the same, except a wild one once a few are in.
      if (n > 8 && Math.abs(score) > LEARN_CLIP) {
        this.#level = level + (Math.sign(r) * LEARN_CLIP * sigma) / n;
      } else {
        this.#level = level + r / n;
        this.#dev = dev + (Math.abs(r) - dev) / (n - 1);
      }
    } else if (Math.abs(score) > bar) {
      this.#level = level + (this.#alpha / SLOWER) * Math.sign(r) * bar * sigma;
    } else {
      this.#level = level + this.#alpha * r;
      this.#dev = dev + (this.#alpha / SLOWER) * (Math.abs(r) - dev);
    }
    return score;
  }
}

/** An hour is judged on its own once it holds half an hour of samples, or minSamples if fewer. */
function readyAfter(minSamples: number, perHour: number): number {
  return Math.max(4, Math.min(minSamples, perHour / 2));
}
