import { describe, expect, it } from 'vitest';
import { createDetector } from '../../../src/alerts/detectors/index.js';
import type { AnomalyOptions } from '../../../src/alerts/types.js';
import { feed, fired, gaussian, laplace, prng, studentT } from './series.js';

const DAY = 1_440; // samples, one a minute

function anomaly(options: AnomalyOptions = {}) {
  return createDetector({ anomaly: options });
}

describe('anomaly detector', () => {
  it('learns minSamples samples before it gives a verdict', () => {
    const random = prng(1);
    const detector = anomaly({ minSamples: 50 });
    const verdicts = feed(detector, 60, () => 100 + 10 * gaussian(random));
    expect(verdicts.slice(0, 50).every((v) => v === undefined)).toBe(true);
    expect(verdicts.slice(50).every((v) => v !== undefined)).toBe(true);
    expect(verdicts[59]).toMatchObject({ breached: false });
    expect(verdicts[59]!.expected).toBeGreaterThan(90);
    expect(verdicts[59]!.expected).toBeLessThan(110);
  });

  it('ignores NaN and infinite samples: they neither count nor move the baseline', () => {
    const random = prng(2);
    const detector = anomaly({ minSamples: 10 });
    const junk = [Number.NaN, Infinity, -Infinity];
    const verdicts = feed(detector, 60, (i) =>
      i % 2 === 0 ? junk[i % 3]! : 100 + gaussian(random),
    );
    // The 10th finite sample is the 20th sample; the next finite one is judged.
    expect(verdicts.slice(0, 21).every((v) => v === undefined)).toBe(true);
    expect(verdicts[21]).toBeDefined();
    const last = verdicts.at(-1)!;
    expect(last.breached).toBe(false);
    expect(Number.isFinite(last.value)).toBe(true);
    expect(Math.abs(last.expected! - 100)).toBeLessThan(3);
  });

  it('fires on a step change, from the first sample after it, in the step direction only', () => {
    const step = (i: number, random: () => number) =>
      (i < 1_000 ? 100 : 200) + 10 * gaussian(random);
    const r1 = prng(3);
    const both = fired(feed(anomaly(), 1_100, (i) => step(i, r1)));
    expect(both[0]).toBe(1_000);
    // A lasting shift keeps firing for a while before it becomes the new normal.
    expect(both.filter((i) => i >= 1_000 && i < 1_020)).toHaveLength(20);
    const r2 = prng(3);
    const verdicts = feed(anomaly({ direction: 'up' }), 1_001, (i) => step(i, r2));
    expect(verdicts[1_000]).toMatchObject({ breached: true });
    expect(verdicts[1_000]!.score).toBeGreaterThan(5);
    expect(verdicts[1_000]!.reason).toMatch(
      /^\d+(\.\d+)? spreads above baseline 1\d\d(\.\d+)? \(bar/,
    );
    const r3 = prng(3);
    expect(fired(feed(anomaly({ direction: 'down' }), 1_100, (i) => step(i, r3)))).toEqual([]);
  });

  it('never fires on the quiet side of a floor, and fires past it', () => {
    // An error rate around 0.1 % that jumps to 0.4 %: far from its baseline, under a 5 % floor.
    const small = (i: number, random: () => number) =>
      (i < 1_000 ? 0.001 : 0.004) + 0.0001 * gaussian(random);
    const r1 = prng(7);
    expect(fired(feed(anomaly({ direction: 'up' }), 1_050, (i) => small(i, r1)))[0]).toBe(1_000);
    const r2 = prng(7);
    expect(
      fired(feed(anomaly({ direction: 'up', floor: 0.05 }), 1_050, (i) => small(i, r2))),
    ).toEqual([]);
    // Past the floor it fires as before.
    const large = (i: number, random: () => number) =>
      (i < 1_000 ? 0.001 : 0.2) + 0.0001 * gaussian(random);
    const r3 = prng(7);
    expect(
      fired(feed(anomaly({ direction: 'up', floor: 0.05 }), 1_050, (i) => large(i, r3)))[0],
    ).toBe(1_000);
    expect(() => createDetector({ anomaly: { floor: Number.NaN } })).toThrow(
      /condition\.anomaly\.floor/,
    );
  });

  it('fires on a single spike without letting it corrupt the baseline', () => {
    const random = prng(4);
    const spikes = new Set([1_000, 1_300]);
    const verdicts = feed(
      anomaly(),
      1_600,
      (i) => 100 + 10 * gaussian(random) + (spikes.has(i) ? 150 : 0),
    );
    // Both spikes fire, nothing else does: back to normal means no alert.
    expect(fired(verdicts)).toEqual([1_000, 1_300]);
    const first = verdicts[1_000]!;
    const second = verdicts[1_300]!;
    // The baseline and the spread are the same after the first spike as before it.
    expect(Math.abs(verdicts[1_001]!.expected! - 100)).toBeLessThan(5);
    expect(second.score! / first.score!).toBeGreaterThan(0.8);
    expect(second.score! / first.score!).toBeLessThan(1.25);
  });

  it('fires when throughput drops to zero, with direction down or both, and keeps firing', () => {
    const drop = (random: () => number) => (i: number) =>
      i < 2_000 ? 1_000 + 30 * gaussian(random) : 0;
    for (const direction of ['down', 'both'] as const) {
      const verdicts = feed(anomaly({ direction }), 2_120, drop(prng(5)));
      const hits = fired(verdicts);
      expect(hits[0]).toBe(2_000);
      // Every sample of the outage fires for (at least) the next two hours.
      expect(hits).toEqual(Array.from({ length: 120 }, (_, k) => 2_000 + k));
      expect(verdicts[2_000]!.score).toBeLessThan(-20);
      expect(verdicts[2_000]!.reason).toContain('below baseline');
    }
    expect(fired(feed(anomaly({ direction: 'up' }), 2_120, drop(prng(5))))).toEqual([]);
  });

  it('does not fire when a flat series starts to ripple, but does on a real jump', () => {
    const random = prng(6);
    // Flat at 100 (a gauge that did not move), then a ripple of a few tenths, then a jump.
    const verdicts = feed(anomaly(), 1_600, (i) =>
      i < 1_000 ? 100 : i < 1_500 ? 100 + 0.3 * gaussian(random) : 150,
    );
    expect(fired(verdicts)[0]).toBe(1_500);
    expect(fired(verdicts.slice(0, 1_500))).toEqual([]);
  });

  describe('on noise alone, at the default sensitivity', () => {
    it.each([1, 2, 3])('Gaussian noise never fires over 5,000 samples (seed %i)', (seed) => {
      const random = prng(seed);
      expect(fired(feed(anomaly(), 5_000, () => 100 + 10 * gaussian(random)))).toEqual([]);
    });

    it.each([1, 2, 3])('Laplace noise never fires over 5,000 samples (seed %i)', (seed) => {
      const random = prng(seed);
      const noise = Array.from({ length: 5_000 }, () => laplace(random));
      // Heavy enough that a plain 4-sigma rule would fire on it again and again.
      expect(noise.filter((x) => Math.abs(x) > 4).length).toBeGreaterThan(5);
      expect(fired(feed(anomaly(), 5_000, (i) => 100 + 10 * noise[i]!))).toEqual([]);
    });

    it('Student t noise (3 degrees of freedom) fires rarely: at most 5 of 20,000 samples', () => {
      const random = prng(7);
      const noise = Array.from({ length: 20_000 }, () => studentT(random, 3));
      // Its standard deviation is √3: a 4-sigma rule would fire on more than a hundred samples.
      expect(noise.filter((x) => Math.abs(x) > 4 * Math.sqrt(3)).length).toBeGreaterThan(100);
      expect(
        fired(feed(anomaly(), 20_000, (i) => 100 + 10 * noise[i]!)).length,
      ).toBeLessThanOrEqual(5);
    });
  });

  describe('seasonal', () => {
    // Every day from 09:00 to 12:00 UTC the series triples; three weeks, one sample a minute.
    const daily = (random: () => number) => (_: number, at: number) => {
      const hour = new Date(at).getUTCHours();
      return (hour >= 9 && hour < 12 ? 300 : 100) + 5 * gaussian(random);
    };
    const days = (hits: number[]) => [...new Set(hits.map((i) => Math.floor(i / DAY)))];

    it('learns a daily peak: no alert after the first week, where a plain baseline fires daily', () => {
      const seasonal = fired(feed(anomaly(), 21 * DAY, daily(prng(8))));
      const plain = fired(feed(anomaly({ seasonal: false }), 21 * DAY, daily(prng(8))));
      // The first week is judged against the plain baseline: the peaks fire.
      expect(days(seasonal)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(days(plain)).toEqual(Array.from({ length: 21 }, (_, d) => d));
      // The plain baseline fires at the peak's onset, every day.
      for (let d = 7; d < 21; d++) expect(plain).toContain(d * DAY + 9 * 60);
    });

    it('judges against the hour of the week once it is learned, and fires when a peak fails to come', () => {
      const random = prng(9);
      const value = daily(random);
      const missing = 16 * DAY + 10 * 60; // day 16, 10:00 to 10:30: the peak is missing
      const verdicts = feed(anomaly({ direction: 'down' }), 17 * DAY, (i, at) =>
        i >= missing && i < missing + 30 ? 100 + 5 * gaussian(random) : value(i, at),
      );
      expect(verdicts[missing]).toMatchObject({ breached: true });
      expect(verdicts[missing]!.reason).toContain('below the seasonal baseline');
      expect(Math.abs(verdicts[missing]!.expected! - 300)).toBeLessThan(10);
      expect(
        fired(verdicts).filter((i) => i >= 7 * DAY && (i < missing || i >= missing + 30)),
      ).toEqual([]);
    });

    it('takes a pattern that moves by an hour (daylight saving time) in its stride', () => {
      const random = prng(10);
      const value = daily(random);
      // From day 21 on, everything happens an hour earlier in UTC.
      const verdicts = feed(anomaly(), 35 * DAY, (i, at) =>
        value(i, i >= 21 * DAY ? at + 3_600_000 : at),
      );
      expect(fired(verdicts).filter((i) => i >= 7 * DAY)).toEqual([]);
    });

    it('fires on the first day of a new daily job only, and leaves no echo of an outage', () => {
      const random = prng(11);
      const value = daily(random);
      const outage = 15 * DAY + 15 * 60; // day 15, 15:00 to 16:00: down to zero
      const verdicts = feed(anomaly(), 28 * DAY, (i, at) => {
        if (i >= outage && i < outage + 60) return 0;
        // From day 14 on, a job doubles the value every day from 03:00 to 04:00.
        return i >= 14 * DAY && new Date(at).getUTCHours() === 3 ? 2 * value(i, at) : value(i, at);
      });
      const late = fired(verdicts).filter((i) => i >= 7 * DAY);
      const job = late.filter((i) => i < 14 * DAY + 4 * 60);
      expect(job[0]).toBe(14 * DAY + 3 * 60);
      expect(late.filter((i) => i >= outage && i < outage + 60)).toHaveLength(60);
      // Nothing else: not the job on later days, not the outage's hour a week later.
      expect(late.length).toBe(job.length + 60);
    });
  });
});
