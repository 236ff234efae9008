// Synthetic series for the detector tests: a seeded PRNG and the noise distributions.
import type { Detector, DetectorVerdict } from '../../../src/alerts/types.js';

export const MINUTE = 60_000;
/** Monday 2026-01-05 00:00 UTC: day 0 of the synthetic series. */
export const MONDAY = Date.UTC(2026, 0, 5);

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal (Box–Muller). */
export function gaussian(random: () => number): number {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Laplace with unit variance: exponential tails, kurtosis 6. */
export function laplace(random: () => number): number {
  const u = random() - 0.5;
  return (-Math.sign(u) * Math.log(1 - 2 * Math.abs(u))) / Math.SQRT2;
}

/** Student's t with `nu` degrees of freedom: polynomial tails (no fourth moment for nu <= 4). */
export function studentT(random: () => number, nu: number): number {
  let chi = 0;
  for (let i = 0; i < nu; i++) chi += gaussian(random) ** 2;
  return gaussian(random) / Math.sqrt(chi / nu);
}

/** Feeds `count` samples, one a minute from `start`, evaluating after each; returns the verdicts. */
export function feed(
  detector: Detector,
  count: number,
  value: (i: number, at: number) => number,
  start = MONDAY,
  stepMs = MINUTE,
): (DetectorVerdict | undefined)[] {
  const verdicts: (DetectorVerdict | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const at = start + i * stepMs;
    detector.observe(at, value(i, at));
    verdicts.push(detector.evaluate(at));
  }
  return verdicts;
}

/** Indexes of the breached verdicts. */
export function fired(verdicts: readonly (DetectorVerdict | undefined)[]): number[] {
  const out: number[] = [];
  verdicts.forEach((v, i) => {
    if (v?.breached) out.push(i);
  });
  return out;
}
