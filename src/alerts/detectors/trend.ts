import type { Detector, DetectorVerdict, TrendOptions } from '../types.js';
import { formatSpan, formatValue } from './format.js';
import { LineFit, SampleWindow } from './sample-window.js';
import { checkKeys, durationOption, invalid, numberOption, type OptionSite } from './validate.js';

const MINUTE_MS = 60_000;

/** The options of a trend detector, checked and with their defaults. */
export interface TrendSettings {
  windowMs: number;
  slopeAbove?: number;
  slopeBelow?: number;
}

/**
 * Checks `{ trend: options }` and fills the defaults; throws AlertRuleError naming the field.
 *
 * @example
 * ```ts
 * trendSettings({ slopeAbove: 5 }); // { windowMs: 1_800_000, slopeAbove: 5, slopeBelow: undefined }
 * trendSettings({ window: 0, slopeAbove: 5 }); // AlertRuleError, field condition.trend.window
 * ```
 */
export function trendSettings(options: TrendOptions, rule = 'rule'): TrendSettings {
  const site: OptionSite = { rule, path: 'condition.trend' };
  const o = checkKeys(options, site, ['window', 'slopeAbove', 'slopeBelow']);
  const windowMs = o.window === undefined ? 30 * 60_000 : durationOption(o.window, site, 'window');
  const slopeAbove =
    o.slopeAbove === undefined ? undefined : numberOption(o.slopeAbove, site, 'slopeAbove');
  const slopeBelow =
    o.slopeBelow === undefined ? undefined : numberOption(o.slopeBelow, site, 'slopeBelow');
  if (slopeAbove === undefined && slopeBelow === undefined) {
    throw invalid(site, `${site.path}.slopeAbove`, undefined, 'slopeAbove, slopeBelow or both');
  }
  if (slopeAbove !== undefined && slopeBelow !== undefined && slopeBelow >= slopeAbove) {
    // Every slope would fire.
    throw invalid(
      site,
      `${site.path}.slopeBelow`,
      slopeBelow,
      `a number below slopeAbove (${slopeAbove})`,
    );
  }
  return { windowMs, slopeAbove, slopeBelow };
}

/**
 * Fires when the series' robust slope over the window, in units per minute, is above
 * `slopeAbove` or below `slopeBelow`. The slope is Theil–Sen's: the median of the slopes between
 * every pair of points, so a spike or a drop in the window barely moves it. The detector keeps
 * at most 60 points (samples closer than 1/60 of the window are averaged).
 *
 * `score` is the slope; `expected`, the line's value at the latest sample. `evaluate` returns
 * `undefined` until the window holds at least two points spanning a quarter of it, and when the
 * latest sample is older than the window. Non-finite samples are ignored.
 *
 * @example
 * ```ts
 * const detector = trendDetector(trendSettings({ window: '30m', slopeAbove: 5 }));
 * detector.observe(Date.now(), queueDepth);
 * detector.evaluate(Date.now()); // { breached, value, expected: fitted value, score: slope/min }
 * ```
 */
export function trendDetector(settings: TrendSettings): Detector {
  return new TrendDetector(settings);
}

class TrendDetector implements Detector {
  readonly #samples: SampleWindow;
  readonly #slopeAbove: number | undefined;
  readonly #slopeBelow: number | undefined;
  // The latest judge(), for verdict(): the line, and the sample it was judged on.
  readonly #line = new LineFit();
  #judged = false;
  #value = 0;
  #lastAt = 0;

  constructor(settings: TrendSettings) {
    this.#samples = new SampleWindow(settings.windowMs);
    this.#slopeAbove = settings.slopeAbove;
    this.#slopeBelow = settings.slopeBelow;
  }

  observe(at: number, value: number): void {
    this.#samples.add(at, value);
  }

  judge(at: number): boolean | undefined {
    const samples = this.#samples;
    this.#judged = samples.fit(at, this.#line);
    if (!this.#judged) return undefined;
    this.#value = samples.lastValue;
    this.#lastAt = samples.lastAt;
    return this.#above() || this.#below();
  }

  verdict(): DetectorVerdict | undefined {
    if (!this.#judged) return undefined;
    const line = this.#line;
    const slope = line.slope;
    const above = this.#above();
    const below = this.#below();
    const motion = slope > 0 ? 'rising' : slope < 0 ? 'falling' : 'flat';
    const bound = above
      ? ` (above ${formatValue(this.#slopeAbove!)}/min)`
      : below
        ? ` (below ${formatValue(this.#slopeBelow!)}/min)`
        : '';
    return {
      breached: above || below,
      value: this.#value,
      expected: line.intercept + (slope * (this.#lastAt - line.newestAt)) / MINUTE_MS,
      score: slope,
      reason: `${motion} ${formatValue(Math.abs(slope))}/min over ${formatSpan(line.spanMs)}${bound}`,
    };
  }

  evaluate(at: number): DetectorVerdict | undefined {
    this.judge(at);
    return this.verdict();
  }

  #above(): boolean {
    return this.#slopeAbove !== undefined && this.#line.slope > this.#slopeAbove;
  }

  #below(): boolean {
    return this.#slopeBelow !== undefined && this.#line.slope < this.#slopeBelow;
  }
}
