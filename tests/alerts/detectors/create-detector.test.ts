import { describe, expect, it } from 'vitest';
import { createDetector } from '../../../src/alerts/detectors/index.js';
import { AlertRuleError } from '../../../src/alerts/errors.js';
import type { AlertCondition } from '../../../src/alerts/types.js';
import { EnterpriseError } from '../../../src/core/errors.js';

function rejection(condition: unknown): AlertRuleError {
  try {
    createDetector(condition as AlertCondition, 'disk-full');
  } catch (error) {
    expect(error).toBeInstanceOf(AlertRuleError);
    return error as AlertRuleError;
  }
  throw new Error('expected createDetector to throw');
}

describe('createDetector', () => {
  it('builds every kind of condition with its defaults', () => {
    for (const condition of [
      { above: 500 },
      { below: 0.5 },
      { anomaly: {} },
      { anomaly: { sensitivity: 6, minSamples: 100, direction: 'down', seasonal: false } },
      { trend: { slopeAbove: 5 } },
      { trend: { window: 600, slopeBelow: -1 } },
      { forecast: { threshold: 1.5e9, within: '40m' } },
      { forecast: { threshold: 0, within: 3600, window: '2h', direction: 'down' } },
    ] as AlertCondition[]) {
      const detector = createDetector(condition);
      expect(typeof detector.observe).toBe('function');
      expect(detector.evaluate(Date.now())).toBeUndefined();
    }
  });

  it.each([
    [{ anomaly: { sensitivity: -1 } }, 'condition.anomaly.sensitivity', -1],
    [{ anomaly: { sensitivity: 0 } }, 'condition.anomaly.sensitivity', 0],
    [{ anomaly: { sensitivity: Number.NaN } }, 'condition.anomaly.sensitivity', Number.NaN],
    [{ anomaly: { sensitivity: 1_000 } }, 'condition.anomaly.sensitivity', 1_000],
    [{ anomaly: { sensitivity: '4' } }, 'condition.anomaly.sensitivity', '4'],
    [{ anomaly: { minSamples: 1 } }, 'condition.anomaly.minSamples', 1],
    [{ anomaly: { minSamples: 12.5 } }, 'condition.anomaly.minSamples', 12.5],
    [{ anomaly: { direction: 'sideways' } }, 'condition.anomaly.direction', 'sideways'],
    [{ anomaly: { seasonal: 'yes' } }, 'condition.anomaly.seasonal', 'yes'],
    [{ anomaly: { sensitivty: 4 } }, 'condition.anomaly.sensitivty', 4],
    [{ anomaly: 4 }, 'condition.anomaly', 4],
    [{ trend: { window: '-5m', slopeAbove: 1 } }, 'condition.trend.window', '-5m'],
    [{ trend: { window: 0, slopeAbove: 1 } }, 'condition.trend.window', 0],
    [{ trend: { window: 'soon', slopeAbove: 1 } }, 'condition.trend.window', 'soon'],
    [{ trend: { slopeAbove: Number.POSITIVE_INFINITY } }, 'condition.trend.slopeAbove', Infinity],
    [{ trend: { slopeBelow: Number.NaN } }, 'condition.trend.slopeBelow', Number.NaN],
    [{ trend: {} }, 'condition.trend.slopeAbove', undefined],
    [{ trend: { slopeAbove: 1, slopeBelow: 2 } }, 'condition.trend.slopeBelow', 2],
    [{ forecast: { within: '1h' } }, 'condition.forecast.threshold', undefined],
    [
      { forecast: { threshold: Number.NaN, within: '1h' } },
      'condition.forecast.threshold',
      Number.NaN,
    ],
    [{ forecast: { threshold: 1 } }, 'condition.forecast.within', undefined],
    [{ forecast: { threshold: 1, within: 0 } }, 'condition.forecast.within', 0],
    [{ forecast: { threshold: 1, within: -60 } }, 'condition.forecast.within', -60],
    [{ forecast: { threshold: 1, within: '1h', window: '1y' } }, 'condition.forecast.window', '1y'],
    [
      { forecast: { threshold: 1, within: '1h', direction: 'both' } },
      'condition.forecast.direction',
      'both',
    ],
    [{ above: Number.NaN }, 'condition.above', Number.NaN],
    [{ below: '5' }, 'condition.below', '5'],
  ])('rejects %j, naming %s', (condition, field, value) => {
    const error = rejection(condition);
    expect(error).toBeInstanceOf(EnterpriseError);
    expect(error.code).toBe('E_ALERT_RULE');
    expect(error.context).toMatchObject({ rule: 'disk-full', field });
    expect(error.context.value).toEqual(value);
    expect(error.message).toContain('rule "disk-full"');
    expect(error.message).toContain(field);
  });

  it('keeps the duration parser error as the cause', () => {
    const error = rejection({ trend: { window: 'soon', slopeAbove: 1 } });
    expect(error.cause).toBeInstanceOf(EnterpriseError);
  });

  it('rejects a condition with no known key or with several', () => {
    expect(rejection({}).context).toMatchObject({ field: 'condition' });
    expect(rejection({ above: 1, below: 0 }).context).toMatchObject({ field: 'condition' });
    expect(rejection({ outside: [1, 2] }).context).toMatchObject({ field: 'condition' });
    expect(rejection(null).context).toMatchObject({ field: 'condition' });
  });
});
