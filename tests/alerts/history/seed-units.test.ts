// The pieces of seeding: how much history each detector asks for, and how past and live readings
// are merged into a detector.
import { describe, expect, it } from 'vitest';
import { historyNeed, MAX_SEED_POINTS } from '../../../src/alerts/detectors/history-need.js';
import { SeedingDetector } from '../../../src/alerts/seed-detector.js';
import type { Detector } from '../../../src/alerts/types.js';

const MINUTE = 60_000;

/** A detector that records what it observes (a probe, not a stand-in for one under test). */
function probe(): Detector & { seen: [number, number][] } {
  const seen: [number, number][] = [];
  return {
    seen,
    observe: (at, value) => {
      seen.push([at, value]);
    },
    judge: () => undefined,
    verdict: () => undefined,
    evaluate: () => undefined,
  };
}

describe('historyNeed', () => {
  it('asks for what each detector learns from, never more than the cap of points', () => {
    expect(historyNeed({ above: 1 })).toBeUndefined();
    expect(historyNeed({ anomaly: {} })).toEqual({ spanMs: 170 * 60 * MINUTE, stepMs: 5 * MINUTE });
    expect(historyNeed({ anomaly: { seasonal: false, minSamples: 50 } })).toEqual({
      spanMs: 200 * MINUTE,
      stepMs: MINUTE,
    });
    expect(historyNeed({ forecast: { threshold: 1, within: '1h' } })).toEqual({
      spanMs: 30 * MINUTE,
      stepMs: MINUTE,
    });
    expect(historyNeed({ trend: { window: '6h', slopeAbove: 1 } })).toEqual({
      spanMs: 360 * MINUTE,
      stepMs: 6 * MINUTE,
    });
    const large = historyNeed({ anomaly: { seasonal: false, minSamples: 100_000 } })!;
    expect(large.spanMs / large.stepMs).toBeLessThanOrEqual(MAX_SEED_POINTS);
    expect(large.stepMs % MINUTE).toBe(0);
  });
});

describe('SeedingDetector', () => {
  it('has no verdict while buffering, then feeds the past before the first live reading, then the live ones', () => {
    const inner = probe();
    const seeding = new SeedingDetector(inner);
    seeding.observe(1_000, 10);
    seeding.observe(2_000, 11);
    expect(seeding.judge()).toBeUndefined();
    expect(seeding.evaluate()).toBeUndefined();
    expect(inner.seen).toEqual([]);
    const real = seeding.replay([
      { at: 100, value: 1 },
      { at: 100, value: 99 }, // the same time twice: once
      { at: 50, value: 98 }, // out of order: left out
      { at: 500, value: Number.NaN }, // not a number: left out
      { at: 900, value: 2 },
      { at: 1_000, value: 97 }, // reaches the first live reading: left out
      { at: 1_500, value: 96 },
    ]);
    expect(real).toBe(inner);
    expect(inner.seen).toEqual([
      [100, 1],
      [900, 2],
      [1_000, 10],
      [2_000, 11],
    ]);
  });

  it('feeds the whole past when nothing was read live meanwhile', () => {
    const inner = probe();
    new SeedingDetector(inner).replay([
      { at: 1, value: 1 },
      { at: 2, value: 2 },
    ]);
    expect(inner.seen).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });
});
