import type { Detector, DetectorVerdict, ForecastOptions } from '../types.js';
import { formatSpan, formatValue } from './format.js';
import { SampleWindow } from './sample-window.js';
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
  const samples = new SampleWindow(settings.windowMs);
  const { threshold, withinMs } = settings;
  const up = settings.direction === 'up';
  const limit = formatValue(threshold);
  return {
    observe(at, value) {
      samples.add(at, value);
    },
    evaluate(at): DetectorVerdict | undefined {
      const line = samples.fit(at);
      if (line === undefined) return undefined;
      const value = samples.lastValue;
      const now = line.intercept + (line.slope * (at - line.newestAt)) / MINUTE_MS;
      const expected = now + (line.slope * withinMs) / MINUTE_MS;
      if (up ? value >= threshold : value <= threshold) {
        const side = up ? 'at or above' : 'at or below';
        return { breached: true, value, expected, score: 0, reason: `already ${side} ${limit}` };
      }
      const towards = up ? line.slope > 0 : line.slope < 0;
      if (!towards) {
        const reason = `${up ? 'not rising' : 'not falling'} (${formatValue(line.slope)}/min), ${limit} not reached`;
        return { breached: false, value, expected, reason };
      }
      const ms = Math.max(0, ((threshold - now) / line.slope) * MINUTE_MS);
      return {
        breached: ms <= withinMs,
        value,
        expected,
        score: ms,
        reason: `reaches ${limit} in ${formatSpan(ms)}`,
      };
    },
  };
}
