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
      const value = latest;
      const breached = direction === 'above' ? value > bound : value < bound;
      return {
        breached,
        value,
        expected: bound,
        // Rendered when read (a view, a notification): most verdicts are never shown.
        get reason() {
          return `${value} ${breached ? 'is' : 'is not'} ${direction} ${bound}`;
        },
      };
    },
  };
}
