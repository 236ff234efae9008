import { describe, expect, it } from 'vitest';
import { createDetector } from '../../../src/alerts/detectors/index.js';
import type { AlertCondition } from '../../../src/alerts/types.js';
import { gaussian, MINUTE, MONDAY, prng } from './series.js';

const CONDITIONS: [string, AlertCondition][] = [
  ['above', { above: 105 }],
  ['below', { below: 95 }],
  ['anomaly', { anomaly: { minSamples: 20 } }],
  ['anomaly with a floor', { anomaly: { direction: 'up', floor: 104 } }],
  ['trend', { trend: { window: '20m', slopeAbove: 0.5, slopeBelow: -0.5 } }],
  ['forecast', { forecast: { threshold: 130, within: '30m', window: '20m' } }],
  ['forecast down', { forecast: { threshold: 70, within: '30m', direction: 'down' } }],
];

/** Noise around 100, with a ramp up, a spike and a ramp down to exercise every verdict. */
function series(random: () => number, i: number): number {
  const ramp = i < 200 ? 0 : i < 260 ? (i - 200) * 0.8 : i < 320 ? 48 - (i - 260) * 1.6 : -48;
  return 100 + ramp + (i === 150 ? 40 : 0) + 2 * gaussian(random);
}

describe('judge and verdict', () => {
  it.each(CONDITIONS)(
    '%s: judge decides as evaluate, and verdict gives its evidence',
    (_, condition) => {
      const judged = createDetector(condition);
      const evaluated = createDetector(condition);
      const random = prng(7);
      const seen = new Set<boolean | undefined>();
      for (let i = 0; i < 400; i++) {
        const at = MONDAY + i * MINUTE;
        const value = series(random, i);
        judged.observe(at, value);
        evaluated.observe(at, value);
        const breached = judged.judge(at);
        const expected = evaluated.evaluate(at);
        seen.add(breached);
        expect(breached).toBe(expected?.breached);
        expect(judged.verdict()).toEqual(expected);
      }
      // The series made each detector stay quiet and fire (and learn first, all but thresholds).
      expect(seen.has(true) && seen.has(false)).toBe(true);
    },
  );

  it('describes the latest judgement, whatever was observed since', () => {
    for (const [, condition] of CONDITIONS) {
      const detector = createDetector(condition);
      const random = prng(8);
      let at = MONDAY;
      for (let i = 0; i < 300; i++, at += MINUTE) detector.observe(at, series(random, i));
      detector.judge(at - MINUTE);
      const verdict = detector.verdict();
      expect(verdict).toBeDefined();
      detector.observe(at, 1e6);
      expect(detector.verdict()).toEqual(verdict);
      // A new object each time: a caller may keep it.
      expect(detector.verdict()).not.toBe(verdict);
    }
  });

  it('has no verdict before the first judgement, nor while learning', () => {
    const anomaly = createDetector({ anomaly: { minSamples: 5 } });
    expect(anomaly.verdict()).toBeUndefined();
    anomaly.observe(MONDAY, 100);
    expect(anomaly.judge(MONDAY)).toBeUndefined();
    expect(anomaly.verdict()).toBeUndefined();
    const threshold = createDetector({ above: 1 });
    expect(threshold.judge(MONDAY)).toBeUndefined();
    expect(threshold.verdict()).toBeUndefined();
    threshold.observe(MONDAY, 2);
    expect(threshold.judge(MONDAY)).toBe(true);
    expect(threshold.verdict()).toEqual({
      breached: true,
      value: 2,
      expected: 1,
      reason: '2 is above 1',
    });
  });
});
