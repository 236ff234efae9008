import type { Detector, DetectorVerdict, ForecastOptions } from '../types.js';
import { formatSpan, formatValue } from './format.js';
import { LineFit, SampleWindow } from './sample-window.js';
import {
  checkKeys,
  choiceOption,
  durationOption,
  invalid,
  numberOption,
  type OptionSite,
} from './validate.js';

const MINUTE_MS = 60_000;

/** The options of a forecast detector, checked and with their defaults. */
export interface ForecastSettings {
  threshold: number;
  withinMs: number;
  windowMs: number;
  direction: 'up' | 'down';
}

/**
 * Checks `{ forecast: options }` and fills the defaults; throws AlertRuleError naming the field.
 *
 * @example
 * ```ts
 * forecastSettings({ threshold: 1.5e9, within: '40m' }); // window 30m, direction 'up'
 * forecastSettings({ threshold: 1.5e9 } as ForecastOptions); // AlertRuleError, field condition.forecast.within
 * ```
 */
export function forecastSettings(options: ForecastOptions, rule = 'rule'): ForecastSettings {
  const site: OptionSite = { rule, path: 'condition.forecast' };
  const o = checkKeys(options, site, ['threshold', 'within', 'window', 'direction']);
  const threshold = numberOption(o.threshold, site, 'threshold');
  if (o.within === undefined) throw invalid(site, `${site.path}.within`, undefined, 'a duration');
  const withinMs = durationOption(o.within, site, 'within');
  const windowMs = o.window === undefined ? 30 * 60_000 : durationOption(o.window, site, 'window');
  const direction =
    o.direction === undefined
      ? 'up'
      : choiceOption(o.direction, site, 'direction', ['up', 'down'] as const);
  return { threshold, withinMs, windowMs, direction };
}

/**
 * Predicts when the series crosses `threshold`, like Prometheus `predict_linear`, and fires when
 * that is within `within` (or the latest sample is already at or beyond it). The line is
 * Theil–Sen's over the window rather than least squares: one GC drop or spike in the window
 * would tilt a least-squares line, and the median of pairwise slopes costs no more on 60 points.
 * `score` is the time until the crossing in ms (0 when already beyond, absent when the line does
 * not head towards the threshold); `expected` is the line's value at the end of `within`.
 *
 * `evaluate` returns `undefined` until the window holds at least two points spanning a quarter
 * of it, and when the latest sample is older than the window. Non-finite samples are ignored.
 *
 * @example
 * ```ts
 * const detector = forecastDetector(forecastSettings({ threshold: 1.5e9, within: '40m' }));
 * detector.observe(Date.now(), heapUsed);
 * detector.evaluate(Date.now()); // { breached: true, score: 2_280_000, reason: 'reaches 1.5e9 in 38m' }
 * ```
 */
export function forecastDetector(settings: ForecastSettings): Detector {
  return new ForecastDetector(settings);
}

class ForecastDetector implements Detector {
  readonly #samples: SampleWindow;
  readonly #threshold: number;
  readonly #withinMs: number;
  readonly #up: boolean;
  readonly #limit: string;
  // The latest judge(), for verdict(): the line, the sample, the time it was judged at.
  readonly #line = new LineFit();
  #judged = false;
  #value = 0;
  #at = 0;

  constructor(settings: ForecastSettings) {
    this.#samples = new SampleWindow(settings.windowMs);
    this.#threshold = settings.threshold;
    this.#withinMs = settings.withinMs;
    this.#up = settings.direction === 'up';
    this.#limit = formatValue(settings.threshold);
  }

  observe(at: number, value: number): void {
    this.#samples.add(at, value);
  }

  judge(at: number): boolean | undefined {
    const samples = this.#samples;
    this.#judged = samples.fit(at, this.#line);
    if (!this.#judged) return undefined;
    this.#value = samples.lastValue;
    this.#at = at;
    if (this.#beyond()) return true;
    return this.#towards() && this.#msToCross() <= this.#withinMs;
  }

  verdict(): DetectorVerdict | undefined {
    if (!this.#judged) return undefined;
    const value = this.#value;
    const slope = this.#line.slope;
    const limit = this.#limit;
    const expected = this.#now() + (slope * this.#withinMs) / MINUTE_MS;
    if (this.#beyond()) {
      const side = this.#up ? 'at or above' : 'at or below';
      return { breached: true, value, expected, score: 0, reason: `already ${side} ${limit}` };
    }
    if (!this.#towards()) {
      const reason = `${this.#up ? 'not rising' : 'not falling'} (${formatValue(slope)}/min), ${limit} not reached`;
      return { breached: false, value, expected, reason };
    }
    const ms = this.#msToCross();
    return {
      breached: ms <= this.#withinMs,
      value,
      expected,
      score: ms,
      reason: `reaches ${limit} in ${formatSpan(ms)}`,
    };
  }

  evaluate(at: number): DetectorVerdict | undefined {
    this.judge(at);
    return this.verdict();
  }

  /** The latest sample judged is at or beyond the threshold already. */
  #beyond(): boolean {
    return this.#up ? this.#value >= this.#threshold : this.#value <= this.#threshold;
  }

  /** The line heads towards the threshold. */
  #towards(): boolean {
    return this.#up ? this.#line.slope > 0 : this.#line.slope < 0;
  }

  /** The line's value at the time judged. */
  #now(): number {
    const line = this.#line;
    return line.intercept + (line.slope * (this.#at - line.newestAt)) / MINUTE_MS;
  }

  /** Milliseconds until the line crosses the threshold, from the time judged. */
  #msToCross(): number {
    return Math.max(0, ((this.#threshold - this.#now()) / this.#line.slope) * MINUTE_MS);
  }
}
