import type { OperationTotals, OperationTotalsSnapshot } from '../../performance/types.js';
import { subtractBuckets } from './buckets.js';
import { canonicalLabels } from './series-key.js';
import type { OperationRollup } from './types.js';

/**
 * Where a recorder reads operations from: the performance monitor (`enterprise.performance`), or
 * anything that tells what every operation recorded since its statistics began.
 *
 * @example
 * ```ts
 * const source: OperationTotalsSource = enterprise.performance;
 * ```
 */
export interface OperationTotalsSource {
  operationTotals(): OperationTotalsSnapshot;
}

/**
 * @internal Turns running totals into the rollups of the time between two readings: each series'
 * counts and buckets minus those of the previous reading. A series whose totals went down (the
 * monitor was reset, or its series recreated) starts over: everything it holds is new.
 */
export class OperationDeltas {
  #generation: number | undefined;
  #previous = new Map<string, OperationTotals>();

  /** Takes `snapshot` as the starting point without producing rollups. */
  baseline(snapshot: OperationTotalsSnapshot): void {
    this.take(snapshot);
  }

  /** The rollups of the calls recorded since the previous reading; remembers this one. */
  take(snapshot: OperationTotalsSnapshot): OperationRollup[] {
    if (snapshot.generation !== this.#generation) this.#previous.clear();
    this.#generation = snapshot.generation;
    const next = new Map<string, OperationTotals>();
    const rollups: OperationRollup[] = [];
    for (const totals of snapshot.operations) {
      const key = `${totals.name}\u0000${canonicalLabels(totals.labels)}`;
      next.set(key, totals);
      const delta = difference(totals, this.#previous.get(key));
      if (delta !== undefined && delta.count > 0) rollups.push(delta);
    }
    this.#previous = next;
    return rollups;
  }
}

function difference(
  current: OperationTotals,
  previous: OperationTotals | undefined,
): OperationRollup | undefined {
  const whole = (): OperationRollup => ({
    name: current.name,
    labels: { ...current.labels },
    count: current.count,
    errors: current.errors,
    slow: current.slow,
    sumMs: current.sumMs,
    histogram: {
      indexes: Array.from(current.histogram.indexes),
      counts: Array.from(current.histogram.counts),
    },
  });
  if (previous === undefined) return whole();
  if (current.count < previous.count || current.errors < previous.errors) return whole();
  const histogram = subtractBuckets(current.histogram, previous.histogram);
  if (histogram === undefined) return whole();
  return {
    name: current.name,
    labels: { ...current.labels },
    count: current.count - previous.count,
    errors: current.errors - previous.errors,
    slow: Math.max(0, current.slow - previous.slow),
    sumMs: Math.max(0, current.sumMs - previous.sumMs),
    histogram,
  };
}
