import { AlertRuleError } from '../errors.js';
import type {
  AlertCondition,
  AnomalyOptions,
  Detector,
  ForecastOptions,
  TrendOptions,
} from '../types.js';
import { anomalyDetector, anomalySettings } from './anomaly.js';
import { forecastDetector, forecastSettings } from './forecast.js';
import { thresholdDetector } from './threshold.js';
import { trendDetector, trendSettings } from './trend.js';
import { numberOption } from './validate.js';

const KINDS = ['above', 'below', 'anomaly', 'trend', 'forecast'] as const;

/**
 * Builds the per-series state of a condition. One detector per (rule, labels) pair. The options
 * are checked here: an invalid one throws {@link AlertRuleError} whose `context.field` names it
 * (`condition.anomaly.sensitivity`, `condition.forecast.within`...).
 *
 * @example
 * ```ts
 * const detector = createDetector({ above: 500 });
 * const drop = createDetector({ anomaly: { direction: 'down' } }, 'throughput-drop');
 * ```
 */
export function createDetector(condition: AlertCondition, rule = 'rule'): Detector {
  const keys = typeof condition === 'object' && condition !== null ? Object.keys(condition) : [];
  const kind = keys.length === 1 ? KINDS.find((k) => k === keys[0]) : undefined;
  if (kind === undefined) {
    throw new AlertRuleError(
      `rule "${rule}": condition must have exactly one of ${KINDS.join(', ')}; got ${keys.length === 0 ? 'none' : keys.join(', ')}`,
      { rule, field: 'condition', value: keys },
    );
  }
  const c = condition as Record<string, unknown>;
  const site = { rule, path: 'condition' };
  switch (kind) {
    case 'above':
    case 'below':
      return thresholdDetector(kind, numberOption(c[kind], site, kind));
    case 'anomaly':
      return anomalyDetector(anomalySettings(c.anomaly as AnomalyOptions, rule));
    case 'trend':
      return trendDetector(trendSettings(c.trend as TrendOptions, rule));
    case 'forecast':
      return forecastDetector(forecastSettings(c.forecast as ForecastOptions, rule));
  }
}
