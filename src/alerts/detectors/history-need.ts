import type { AlertCondition, AnomalyOptions, ForecastOptions, TrendOptions } from '../types.js';
import { anomalySettings } from './anomaly.js';
import { forecastSettings } from './forecast.js';
import { trendSettings } from './trend.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * 24 * HOUR_MS;
/** The most past readings a detector is seeded with per series: replaying stays cheap. */
export const MAX_SEED_POINTS = 2_100;
/** A seasonal baseline is judged once its history spans a week; the margin covers the edges. */
const SEASONAL_SPAN_MS = WEEK_MS + 2 * HOUR_MS;
/** Its cells are hours: a few readings per hour are enough to learn each. */
const SEASONAL_STEP_MS = 5 * MINUTE_MS;

/**
 * How much history a condition's detector learns from, and at which spacing: the span a live
 * detector would need to warm up, as whole minutes.
 *
 * @example
 * ```ts
 * historyNeed({ forecast: { threshold: 1e9, within: '1h' } }); // { spanMs: 1_800_000, stepMs: 60_000 }
 * ```
 */
export interface HistoryNeed {
  spanMs: number;
  stepMs: number;
}

/**
 * @internal The history a detector of `condition` is seeded with: a week and two hours at 5
 * minutes for a seasonal anomaly (the seasonal baseline judges once a week is learned), four
 * times `minSamples` minutes for a plain one (the learning, then the level's memory), the window
 * at a sixtieth of it for a trend or a forecast (what the window keeps); none for a threshold.
 * The step grows so that no series gets more than {@link MAX_SEED_POINTS} points.
 */
export function historyNeed(condition: AlertCondition, rule = 'rule'): HistoryNeed | undefined {
  let need: HistoryNeed | undefined;
  if ('anomaly' in condition) {
    const settings = anomalySettings(condition.anomaly as AnomalyOptions, rule);
    need = settings.seasonal
      ? { spanMs: SEASONAL_SPAN_MS, stepMs: SEASONAL_STEP_MS }
      : { spanMs: 4 * settings.minSamples * MINUTE_MS, stepMs: MINUTE_MS };
  } else if ('trend' in condition) {
    const { windowMs } = trendSettings(condition.trend as TrendOptions, rule);
    need = { spanMs: windowMs, stepMs: windowMs / 60 };
  } else if ('forecast' in condition) {
    const { windowMs } = forecastSettings(condition.forecast as ForecastOptions, rule);
    need = { spanMs: windowMs, stepMs: windowMs / 60 };
  }
  if (need === undefined) return undefined;
  const step = Math.max(need.stepMs, need.spanMs / MAX_SEED_POINTS, MINUTE_MS);
  const stepMs = Math.ceil(step / MINUTE_MS) * MINUTE_MS;
  return { spanMs: Math.ceil(need.spanMs / MINUTE_MS) * MINUTE_MS, stepMs };
}
