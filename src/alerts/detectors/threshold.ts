import type { Detector, DetectorVerdict } from '../types.js';

/**
 * Compares the latest sample with a fixed bound: no history, no learning, a verdict from the
 * first sample on.
 *
 * @example
 * ```ts
 * const detector = thresholdDetector('above', 500);
 * detector.observe(Date.now(), 620);
 * detector.evaluate(Date.now()); // { breached: true, value: 620, expected: 500, reason: '620 is above 500' }
 * ```
 */
export function thresholdDetector(direction: 'above' | 'below', bound: number): Detector {
  return new ThresholdDetector(direction, bound);
}

class ThresholdDetector implements Detector {
  readonly #direction: 'above' | 'below';
  readonly #bound: number;
  #latest: number | undefined;
  /** The sample the latest judge() judged: what verdict() describes. */
  #judged: number | undefined;

  constructor(direction: 'above' | 'below', bound: number) {
    this.#direction = direction;
    this.#bound = bound;
  }

  observe(_at: number, value: number): void {
    this.#latest = value;
  }

  judge(): boolean | undefined {
    const value = this.#latest;
    this.#judged = value;
    if (value === undefined) return undefined;
    return this.#direction === 'above' ? value > this.#bound : value < this.#bound;
  }

  verdict(): DetectorVerdict | undefined {
    const value = this.#judged;
    if (value === undefined) return undefined;
    const bound = this.#bound;
    const breached = this.#direction === 'above' ? value > bound : value < bound;
    return {
      breached,
      value,
      expected: bound,
      reason: `${value} ${breached ? 'is' : 'is not'} ${this.#direction} ${bound}`,
    };
  }

  evaluate(): DetectorVerdict | undefined {
    this.judge();
    return this.verdict();
  }
}
