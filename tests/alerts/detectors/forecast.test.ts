import { describe, expect, it } from 'vitest';
import { createDetector } from '../../../src/alerts/detectors/index.js';
import { feed, fired, gaussian, MINUTE, prng } from './series.js';

describe('forecast detector', () => {
  // Memory grows 1 MB a minute from 1 GB, with 1 MB of noise and a 50 MB GC drop every 10
  // minutes: it reaches 1.5e9 at minute 500.
  const memory = (random: () => number) => (i: number) =>
    1e9 + 1e6 * i + 1e6 * gaussian(random) - (i % 10 === 0 ? 5e7 : 0);

  it('predicts when linear memory growth crosses the threshold, within 10%', () => {
    const detector = createDetector({ forecast: { threshold: 1.5e9, within: '40m' } });
    const verdicts = feed(detector, 500, memory(prng(21)));
    // Every prediction made 4 hours to 30 minutes ahead of the crossing.
    for (let i = 260; i <= 470; i++) {
      const actual = (500 - i) * MINUTE;
      expect(Math.abs(verdicts[i]!.score! - actual)).toBeLessThanOrEqual(0.1 * actual);
    }
    const hits = fired(verdicts);
    // Breached from about 40 minutes before the crossing on (10% either side).
    expect(hits[0]).toBeGreaterThanOrEqual(456);
    expect(hits[0]).toBeLessThanOrEqual(464);
    expect(hits).toEqual(Array.from({ length: 500 - hits[0]! }, (_, k) => hits[0]! + k));
    expect(verdicts[470]!.reason).toMatch(/^reaches 1\.5e9 in (2[6-9]|3[0-4])m$/);
    expect(verdicts[470]!.expected).toBeGreaterThan(1.5e9);
  });

  it('counts a value already beyond the threshold as breached, with a score of 0', () => {
    const detector = createDetector({ forecast: { threshold: 1.5e9, within: '40m' } });
    const verdicts = feed(detector, 530, memory(prng(22)));
    const last = verdicts.at(-1)!;
    expect(last).toMatchObject({ breached: true, score: 0, reason: 'already at or above 1.5e9' });
  });

  it('never forecasts a crossing on a flat series, noisy or not', () => {
    const random = prng(23);
    const flat = createDetector({ forecast: { threshold: 100, within: '1h' } });
    const constant = feed(flat, 600, () => 50);
    expect(fired(constant)).toEqual([]);
    expect(constant.at(-1)!.breached).toBe(false);
    expect(constant.at(-1)!.score).toBeUndefined();
    expect(constant.at(-1)!.reason).toBe('not rising (0/min), 100 not reached');
    const noisy = createDetector({ forecast: { threshold: 100, within: '1h' } });
    expect(fired(feed(noisy, 5_000, () => 50 + 5 * gaussian(random)))).toEqual([]);
  });

  it('forecasts a fall below the threshold with direction down', () => {
    const random = prng(24);
    // Free disk space falls 2 GB an hour from 100 GB: 10 GB is reached at minute 2,700.
    const detector = createDetector({
      forecast: { threshold: 10e9, within: '2h', window: '1h', direction: 'down' },
    });
    const verdicts = feed(detector, 2_700, (i) => 100e9 - (2e9 / 60) * i + 1e8 * gaussian(random));
    const hits = fired(verdicts);
    expect(hits[0]).toBeGreaterThanOrEqual(2_700 - 132);
    expect(hits[0]).toBeLessThanOrEqual(2_700 - 108);
    expect(verdicts[2_000]!.score! / ((2_700 - 2_000) * MINUTE)).toBeCloseTo(1, 1);
  });

  it('gives no verdict before two points span a quarter of the window', () => {
    const detector = createDetector({ forecast: { threshold: 10, within: '5m', window: '20m' } });
    const verdicts = feed(detector, 8, (i) => i);
    expect(verdicts.slice(0, 5).every((v) => v === undefined)).toBe(true);
    expect(verdicts[5]).toMatchObject({ breached: true, reason: 'reaches 10 in 5m' });
  });
});
