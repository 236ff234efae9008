// The Theil–Sen line: the median of pairwise slopes, and the median intercept for it. Robust: a
// GC drop or a spike among the points barely moves it. The slopes are those of the pairs at least
// half the points apart (465 pairs for 60 points rather than 1,770): close pairs give the noisiest
// slopes, and a quarter of the pairs costs a quarter of the time. Medians are found by selection
// in reusable buffers: no array is allocated per fit.

/** The most points a fit uses; the sample windows hold at most this many. */
export const MAX_POINTS = 60;

const slopes = new Float64Array(pairCount(MAX_POINTS));
const residuals = new Float64Array(MAX_POINTS);

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
export function theilSenSlope(times: Float64Array, values: Float64Array, count: number): number {
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
  return m === 0 ? Number.NaN : median(slopes, m);
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
): number {
  const n = Math.min(count, MAX_POINTS);
  for (let i = 0; i < n; i++) residuals[i] = values[i]! - slope * times[i]!;
  return median(residuals, n);
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
  select(a, m, k);
  if (m & 1) return a[k]!;
  // Even count: the other middle value is the largest of the lower part.
  let lower = a[0]!;
  for (let i = 1; i < k; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + a[k]!) / 2;
}

/** Puts the k-th smallest of `a[0..m)` at index k, the smaller ones before it. */
function select(a: Float64Array, m: number, k: number): void {
  let left = 0;
  let right = m - 1;
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
