import { describe, expect, it } from 'vitest';
import { formatSpan, formatValue } from '../../../src/alerts/detectors/format.js';
import {
  MAX_POINTS,
  MedianHint,
  median,
  medianNear,
  pairCount,
  theilSenIntercept,
  theilSenSlope,
} from '../../../src/alerts/detectors/theil-sen.js';
import { gaussian, prng } from './series.js';

describe('median (selection in place)', () => {
  it('equals the median of the sorted values, odd and even counts, with ties', () => {
    const random = prng(31);
    for (let m = 1; m <= 300; m++) {
      const values = Array.from({ length: m }, () =>
        random() < 0.3 ? Math.floor(random() * 5) : gaussian(random),
      );
      const sorted = [...values].sort((a, b) => a - b);
      const expected = m % 2 ? sorted[m >> 1]! : (sorted[(m >> 1) - 1]! + sorted[m >> 1]!) / 2;
      expect(median(Float64Array.from(values), m)).toBe(expected);
    }
  });

  it('handles sorted and reversed runs', () => {
    const up = Float64Array.from({ length: 1_000 }, (_, i) => i);
    expect(median(up, 1_000)).toBe(499.5);
    const down = Float64Array.from({ length: 999 }, (_, i) => 999 - i);
    expect(median(down, 999)).toBe(500);
  });
});

describe('Theil–Sen line', () => {
  it('recovers an exact line', () => {
    const times = Float64Array.from({ length: 40 }, (_, i) => i - 39);
    const values = times.map((t) => 7 - 2.5 * t);
    const slope = theilSenSlope(times, values, 40);
    expect(slope).toBeCloseTo(-2.5, 12);
    expect(theilSenIntercept(times, values, 40, slope)).toBeCloseTo(7, 12);
  });

  it('ignores a fifth of the points thrown far off', () => {
    const random = prng(32);
    const times = Float64Array.from({ length: MAX_POINTS }, (_, i) => i);
    const values = times.map((t) => 3 * t + gaussian(random) + (random() < 0.2 ? 1e4 : 0));
    expect(theilSenSlope(times, values, MAX_POINTS)).toBeCloseTo(3, 0);
  });

  it('uses the pairs at least half the points apart', () => {
    expect(pairCount(60)).toBe(465);
    expect(pairCount(3)).toBe(3);
    expect(pairCount(2)).toBe(1);
  });

  it('has no slope without two distinct times', () => {
    expect(theilSenSlope(Float64Array.of(5), Float64Array.of(1), 1)).toBeNaN();
  });
});

describe('reason formatting', () => {
  it.each([
    [0, '0'],
    [182.456, '182.5'],
    [-Math.PI, '-3.142'],
    [0.0012345, '0.001235'],
    [1_500_000_000, '1.5e9'],
    [-2.1e-5, '-2.1e-5'],
    [100.7, '100.7'],
  ])('formats %d as %s', (value, text) => {
    expect(formatValue(value)).toBe(text);
  });

  it.each([
    [45_000, '45s'],
    [2_280_000, '38m'],
    [7_500_000, '2h 5m'],
    [86_400_000, '1d'],
    [100_800_000, '1d 4h'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatSpan(ms)).toBe(text);
  });
});

describe('median near a hint', () => {
  it('finds the exact median of a set that changes a little or a lot between calls', () => {
    const random = prng(33);
    for (let trial = 0; trial < 60; trial++) {
      const m = 1 + Math.floor(random() * 470);
      const hint = new MedianHint();
      const values = Array.from({ length: m }, () => gaussian(random));
      for (let call = 0; call < 30; call++) {
        const changes = random() < 0.1 ? m : Math.floor(random() * 12);
        for (let c = 0; c < changes; c++) {
          // Ties and far values too.
          values[Math.floor(random() * m)] =
            random() < 0.2
              ? Math.floor(random() * 3)
              : gaussian(random) + (random() < 0.05 ? 50 : 0);
        }
        const expected = median(Float64Array.from(values), m);
        expect(medianNear(Float64Array.from(values), m, hint)).toBe(expected);
      }
    }
  });
});
