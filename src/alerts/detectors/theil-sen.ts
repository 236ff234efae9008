// The Theil–Sen line: the median of pairwise slopes, and the median intercept for it. Robust: a
// GC drop or a spike among the points barely moves it. The slopes are those of the pairs at least
// half the points apart (465 pairs for 60 points rather than 1,770): close pairs give the noisiest
// slopes, and a quarter of the pairs costs a quarter of the time. Medians are found by selection
// in reusable buffers: no array is allocated per fit. A window refitted at each evaluation changes
// by a point or two, and so do its medians: given where they lay last time (a MedianHint), one pass
// keeps the few values near there and the selection runs on those alone.

/** The most points a fit uses; the sample windows hold at most this many. */
export const MAX_POINTS = 60;

const slopes = new Float64Array(pairCount(MAX_POINTS));
const residuals = new Float64Array(MAX_POINTS);
/** The values inside a hint's bracket. */
const near = new Float64Array(pairCount(MAX_POINTS));
/** Below this many values a hint saves nothing. */
const HINTED_FROM = 16;

/**
 * Where a median lay the last time, as a bracket of values around it: the next median of a set
 * that changed little is looked for inside it first. Whatever the bracket, the median found is
 * exact; a close one makes finding it several times cheaper. Each detector keeps its own.
 */
export class MedianHint {
  low = Number.NaN;
  high = Number.NaN;
}

/**
 * The median of the slopes between the pairs of points at least half the points apart (all pairs
 * for three points or fewer), or `NaN` when no pair has distinct times. `times` must be
 * increasing; only the first `count` points are read.
 *
 * @example
 * ```ts
 * theilSenSlope(Float64Array.of(0, 1, 2), Float64Array.of(10, 12, 14), 3); // 2
 * ```
 */
export function theilSenSlope(
  times: Float64Array,
  values: Float64Array,
  count: number,
  hint?: MedianHint,
): number {
  const n = Math.min(count, MAX_POINTS);
  const lag = Math.max(1, n >> 1);
  let m = 0;
  for (let i = 0; i + lag < n; i++) {
    const ti = times[i]!;
    const vi = values[i]!;
    for (let j = i + lag; j < n; j++) {
      const dt = times[j]! - ti;
      if (dt > 0) slopes[m++] = (values[j]! - vi) / dt;
    }
  }
  if (m === 0) return Number.NaN;
  return hint === undefined ? median(slopes, m) : medianNear(slopes, m, hint);
}

/**
 * The median of `values[i] - slope * times[i]`: the line's value at time 0.
 *
 * @example
 * ```ts
 * theilSenIntercept(Float64Array.of(-2, -1, 0), Float64Array.of(10, 12, 14), 3, 2); // 14
 * ```
 */
export function theilSenIntercept(
  times: Float64Array,
  values: Float64Array,
  count: number,
  slope: number,
  hint?: MedianHint,
): number {
  const n = Math.min(count, MAX_POINTS);
  for (let i = 0; i < n; i++) residuals[i] = values[i]! - slope * times[i]!;
  return hint === undefined ? median(residuals, n) : medianNear(residuals, n, hint);
}

/**
 * The median of `a[0..m)`, reordering that range (quickselect, Hoare partition).
 *
 * @example
 * ```ts
 * median(Float64Array.of(5, 1, 4, 2), 4); // 3
 * ```
 */
export function median(a: Float64Array, m: number): number {
  const k = m >> 1;
  select(a, 0, m - 1, k);
  if (m & 1) return a[k]!;
  // Even count: the other middle value is the largest of the lower part.
  let lower = a[0]!;
  for (let i = 1; i < k; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + a[k]!) / 2;
}

/**
 * The median of `a[0..m)` as {@link median} finds it, looked for first among the values inside
 * `hint`'s bracket; moves the bracket to a few values either side of the median found.
 * Reorders `a[0..m)`.
 *
 * @example
 * ```ts
 * const hint = new MedianHint();
 * medianNear(slopesNow, m, hint); // a full selection; the hint brackets the median
 * medianNear(slopesNext, m, hint); // the same median as median(), mostly from a few values
 * ```
 */
export function medianNear(a: Float64Array, m: number, hint: MedianHint): number {
  if (m < HINTED_FROM) return median(a, m);
  const k = m >> 1;
  // The order statistics the median is made of: k, and k - 1 for an even count.
  const lowest = m & 1 ? k : k - 1;
  const margin = Math.max(4, m >> 3);
  const { low, high } = hint;
  if (low <= high) {
    let below = 0;
    let c = 0;
    for (let i = 0; i < m; i++) {
      const x = a[i]!;
      if (x < low) below++;
      else if (x <= high) near[c++] = x;
    }
    if (below <= lowest && k < below + c) {
      const j = k - below;
      const result = medianAt(near, c, j, m);
      // Fewer than `margin` values kept on one side: that edge stays where it was.
      if (j - margin >= 0) hint.low = nth(near, 0, j, j - margin);
      if (j + margin < c) hint.high = nth(near, j + 1, c, j + margin);
      return result;
    }
  }
  const result = median(a, m);
  hint.low = nth(a, 0, k, Math.max(0, k - margin));
  hint.high = k + 1 < m ? nth(a, k + 1, m, Math.min(m - 1, k + margin)) : a[k]!;
  return result;
}

/** The median of `m` values whose k-th smallest (k = m >> 1) is the j-th smallest of `a[0..c)`. */
function medianAt(a: Float64Array, c: number, j: number, m: number): number {
  select(a, 0, c - 1, j);
  if (m & 1) return a[j]!;
  let lower = a[0]!;
  for (let i = 1; i < j; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + a[j]!) / 2;
}

/** The k-th smallest of `a[0..n)`, given that `a[from..to)` holds exactly the ranks from..to-1. */
function nth(a: Float64Array, from: number, to: number, k: number): number {
  select(a, from, to - 1, k);
  return a[k]!;
}

/** Puts the k-th smallest of `a[left..right]` at index k, the smaller ones before it. */
function select(a: Float64Array, left: number, right: number, k: number): void {
  while (right > left) {
    // Median of three as pivot keeps sorted and reversed runs linear.
    const mid = (left + right) >> 1;
    if (a[mid]! < a[left]!) swap(a, mid, left);
    if (a[right]! < a[left]!) swap(a, right, left);
    if (a[right]! < a[mid]!) swap(a, right, mid);
    const pivot = a[mid]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

/**
 * How many pairs `theilSenSlope` uses for `n` points.
 *
 * @example
 * ```ts
 * pairCount(60); // 465
 * ```
 */
export function pairCount(n: number): number {
  const lag = Math.max(1, n >> 1);
  return ((n - lag) * (n - lag + 1)) / 2;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
