import type { Detector, DetectorVerdict } from '../types.js';

/**
 * Compares the latest sample with a fixed bound: no history, no learning, a verdict from the
 * first sample on.
 *
 * @example
 * ```ts
 * const detector = thresholdDetector('above', 500);
 * detector.observe(Date.now(), 620);
 * detector.evaluate(Date.now()); // { breached: true, value: 620, expected: 500, ... }
 * ```
 */
export function thresholdDetector(direction: 'above' | 'below', bound: number): Detector {
  let latest: number | undefined;
  return {
    observe(_at, value) {
      latest = value;
    },
    evaluate(): DetectorVerdict | undefined {
      if (latest === undefined) return undefined;
      const breached = direction === 'above' ? latest > bound : latest < bound;
      return {
        breached,
        value: latest,
        expected: bound,
        reason: `${latest} ${breached ? 'is' : 'is not'} ${direction} ${bound}`,
      };
    },
  };
}
