import type { MetricRollup, OperationRollup } from './types.js';

// The memory store's rollups, one array of numbers each (private to memory-store.ts): a day of
// minutes over a hundred series is 144,000 of them, so each is one small object rather than an
// object holding arrays, and a plain array of exactly its length (typed arrays this small cost
// more, in memory and in reading, than plain arrays of doubles). An operation's cell is
// [count, errors, slow, sumMs, bucket, bucket, ...] where each bucket packs its index and count as
// index * 2^40 + count (exact below 2^53: an index is at most 3199, a count under 2^40); a
// figure's cell is [samples, sum, min, max].

/** @internal One rollup of the memory store: see above. */
export type Cell = readonly number[];

/** Where an operation cell's buckets start. */
export const BUCKETS_AT = 4;
const SHIFT = 2 ** 40;

/** @internal The bucket index of a packed bucket. */
export const packedIndex = (packed: number) => Math.floor(packed / SHIFT);
/** @internal The count of a packed bucket. */
export const packedCount = (packed: number) => packed % SHIFT;

/** @internal An operation's rollup as a cell. */
export function operationCell(op: OperationRollup): Cell {
  const { indexes, counts } = op.histogram;
  const cell = [op.count, op.errors, op.slow, op.sumMs];
  for (let i = 0; i < indexes.length; i++) cell.push(indexes[i]! * SHIFT + counts[i]!);
  // A copy of exactly its length: the room push grew would otherwise stay allocated.
  return cell.slice();
}

/** @internal Two operation cells added: counts summed, buckets merged by index. */
export function mergeOperationCells(a: Cell, b: Cell): Cell {
  const out: number[] = [];
  for (let k = 0; k < BUCKETS_AT; k++) out.push(a[k]! + b[k]!);
  let i = BUCKETS_AT;
  let j = BUCKETS_AT;
  while (i < a.length || j < b.length) {
    const left = i < a.length ? packedIndex(a[i]!) : Number.POSITIVE_INFINITY;
    const right = j < b.length ? packedIndex(b[j]!) : Number.POSITIVE_INFINITY;
    if (left === right) out.push(a[i++]! + packedCount(b[j++]!));
    else if (left < right) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out.slice();
}

/** @internal A figure's rollup as a cell. */
export function metricCell(metric: MetricRollup): Cell {
  return [metric.samples, metric.sum, metric.min, metric.max];
}

/** @internal Two figure cells added. */
export function mergeMetricCells(a: Cell, b: Cell): Cell {
  return [a[0]! + b[0]!, a[1]! + b[1]!, Math.min(a[2]!, b[2]!), Math.max(a[3]!, b[3]!)];
}
