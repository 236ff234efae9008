import { describe, expect, it } from 'vitest';
import { createDetector } from '../../../src/alerts/detectors/index.js';
import { feed, fired, gaussian, MINUTE, MONDAY, prng } from './series.js';

describe('trend detector', () => {
  it('measures the slope in units per minute, whatever the sampling rate', () => {
    for (const stepMs of [5_000, 15_000, MINUTE, 2 * MINUTE]) {
      const detector = createDetector({ trend: { slopeAbove: 1 } });
      const count = (30 * MINUTE) / stepMs + 1;
      const verdicts = feed(
        detector,
        count,
        (_, at) => 10 + (2 * (at - MONDAY)) / MINUTE,
        MONDAY,
        stepMs,
      );
      const last = verdicts.at(-1)!;
      expect(last.score).toBeCloseTo(2, 9);
      expect(last.breached).toBe(true);
      expect(last.expected).toBeCloseTo(last.value, 6);
    }
  });

  it('fits over the whole window when samples come faster than 60 per window', () => {
    const detector = createDetector({ trend: { window: '30m', slopeAbove: 1 } });
    const verdicts = feed(detector, 720, () => 1, MONDAY, 5_000); // an hour, one every 5 s
    expect(verdicts.at(-1)!.reason).toBe('flat 0/min over 30m');
  });

  it('fires on a drift with slopeAbove, not on the flat noisy stretch before it', () => {
    const random = prng(11);
    const detector = createDetector({ trend: { window: '30m', slopeAbove: 2 } });
    // 3 hours flat at 100 (noise 5), then rising 3 per minute for 2 hours.
    const verdicts = feed(
      detector,
      300,
      (i) => 100 + Math.max(0, i - 180) * 3 + 5 * gaussian(random),
    );
    const hits = fired(verdicts);
    expect(hits.filter((i) => i < 180)).toEqual([]);
    // Once the drift fills most of the window, every evaluation fires.
    for (let i = 200; i < 300; i++) expect(hits).toContain(i);
    expect(verdicts[299]!.score).toBeGreaterThan(2.7);
    expect(verdicts[299]!.score).toBeLessThan(3.3);
    expect(verdicts[299]!.reason).toMatch(/^rising 3(\.\d+)?\/min over 30m \(above 2\/min\)$/);
  });

  it('fires on a decline with slopeBelow', () => {
    const random = prng(12);
    const detector = createDetector({ trend: { window: '20m', slopeBelow: -1 } });
    const verdicts = feed(detector, 60, (i) => 500 - 2 * i + gaussian(random));
    expect(verdicts.at(-1)).toMatchObject({ breached: true });
    expect(verdicts.at(-1)!.reason).toMatch(/^falling 2(\.\d+)?\/min over 20m \(below -1\/min\)$/);
  });

  it('is not moved by a spike or a drop inside the window', () => {
    const random = prng(13);
    const detector = createDetector({ trend: { window: '30m', slopeAbove: 1, slopeBelow: -1 } });
    const outliers = new Map([
      [40, 400],
      [50, -300],
    ]);
    const verdicts = feed(detector, 60, (i) => 100 + (outliers.get(i) ?? 0) + gaussian(random));
    expect(fired(verdicts)).toEqual([]);
    expect(Math.abs(verdicts[59]!.score!)).toBeLessThan(0.2);
  });

  it('gives no verdict before two points span a quarter of the window, nor on stale data', () => {
    const detector = createDetector({ trend: { window: '40m', slopeAbove: 1 } });
    const verdicts = feed(detector, 12, (i) => i);
    expect(verdicts.slice(0, 10).every((v) => v === undefined)).toBe(true); // 9 minutes < 10
    expect(verdicts[10]).toBeDefined(); // 10 minutes: a quarter of 40
    expect(detector.evaluate(MONDAY + 11 * MINUTE + 41 * MINUTE)).toBeUndefined();
  });

  it('ignores NaN and infinite samples', () => {
    const detector = createDetector({ trend: { window: '10m', slopeAbove: 1 } });
    const verdicts = feed(detector, 20, (i) =>
      i % 3 === 0 ? Number.NaN : i % 5 === 0 ? -Infinity : i,
    );
    expect(verdicts.at(-1)!.score).toBeCloseTo(1, 9);
    expect(verdicts.at(-1)!.value).toBe(19);
  });
});
