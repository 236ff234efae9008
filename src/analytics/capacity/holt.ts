// Holt's linear trend (double exponential smoothing, the ETS(A,A,N) model) fitted by least squares
// over a grid of smoothing weights, with the prediction interval of Hyndman et al., "Forecasting
// with Exponential Smoothing" (2008), table 6.1: the variance of the h-step error is
// sigma^2 * (1 + (h - 1) * (alpha^2 + alpha*beta*h + beta^2*h*(2h - 1)/6)).

/**
 * A fitted Holt model: the last level and trend, the smoothing weights, and the residual standard
 * deviation of its one-step forecasts.
 *
 * @example
 * ```ts
 * const model = fitHolt([10, 12, 14, 16, 18, 20]);
 * model.trend; // close to 2 per step
 * ```
 */
export interface HoltModel {
  alpha: number;
  beta: number;
  /** The smoothed value at the last observation. */
  level: number;
  /** The smoothed change per step at the last observation. */
  trend: number;
  /** Standard deviation of the one-step forecast errors. */
  sigma: number;
  /** Observations the model was fitted on. */
  observations: number;
}

/** One forecast step: the expected value and the bounds of its prediction interval. */
export interface HoltForecastPoint {
  /** Steps after the last observation (1 is the next step). */
  h: number;
  mean: number;
  lower: number;
  upper: number;
}

const GRID = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const BETA_GRID = [0.001, 0.005, 0.01, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5];

/**
 * The starting level and trend: a least-squares line through the first quarter of the series (at
 * least four points), so that one noisy first step does not set a trend the weights must undo.
 */
function initialState(values: readonly number[]): { level: number; trend: number } {
  const n = Math.min(values.length, Math.max(4, Math.floor(values.length / 4)));
  let sumT = 0;
  let sumV = 0;
  for (let t = 0; t < n; t++) {
    sumT += t;
    sumV += values[t]!;
  }
  const meanT = sumT / n;
  const meanV = sumV / n;
  let cov = 0;
  let varT = 0;
  for (let t = 0; t < n; t++) {
    cov += (t - meanT) * (values[t]! - meanV);
    varT += (t - meanT) ** 2;
  }
  const trend = varT === 0 ? 0 : cov / varT;
  return { level: meanV - trend * meanT, trend };
}

/** Sum of squared one-step errors of a run of the model, and its last state. */
function run(values: readonly number[], alpha: number, beta: number) {
  let { level, trend } = initialState(values);
  let sse = 0;
  for (let i = 1; i < values.length; i++) {
    const forecast = level + trend;
    const error = values[i]! - forecast;
    sse += error * error;
    const previous = level;
    level = alpha * values[i]! + (1 - alpha) * forecast;
    trend = beta * (level - previous) + (1 - beta) * trend;
  }
  return { sse, level, trend };
}

/**
 * Fits Holt's linear trend to evenly spaced observations (at least three), choosing the
 * smoothing weights that minimise the squared one-step errors.
 *
 * @example
 * ```ts
 * const model = fitHolt(heapSamples);
 * const next = holtForecast(model, 12, 0.95); // the next 12 steps with a 95 % interval
 * ```
 */
export function fitHolt(values: readonly number[]): HoltModel {
  if (values.length < 3) throw new RangeError('fitHolt needs at least three observations');
  let best = { alpha: 0.5, beta: 0.1, sse: Number.POSITIVE_INFINITY, level: 0, trend: 0 };
  for (const alpha of GRID) {
    for (const beta of BETA_GRID) {
      if (beta > alpha) continue;
      const fit = run(values, alpha, beta);
      if (fit.sse < best.sse) best = { alpha, beta, ...fit };
    }
  }
  // Two parameters are estimated besides the initial state: n - 1 errors, n - 3 degrees of freedom.
  const dof = Math.max(1, values.length - 3);
  return {
    alpha: best.alpha,
    beta: best.beta,
    level: best.level,
    trend: best.trend,
    sigma: Math.sqrt(best.sse / dof),
    observations: values.length,
  };
}

/**
 * The two-sided normal quantile for a central interval of `confidence` (0.5 to 0.999), by the
 * Acklam rational approximation (relative error below 1.2e-9).
 */
export function normalQuantile(confidence: number): number {
  const p = 0.5 + confidence / 2;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const high = 1 - 0.02425;
  if (p > high) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return (
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/**
 * The forecast `h` steps after the last observation, with its prediction interval.
 *
 * @example
 * ```ts
 * holtPoint(fitHolt([1, 2, 3, 4]), 10, 0.95); // { h: 10, mean: ~14, lower, upper }
 * ```
 */
export function holtPoint(model: HoltModel, h: number, confidence: number): HoltForecastPoint {
  const { alpha, beta, sigma } = model;
  const mean = model.level + h * model.trend;
  const factor =
    1 + (h - 1) * (alpha * alpha + alpha * beta * h + (beta * beta * h * (2 * h - 1)) / 6);
  const half = normalQuantile(confidence) * sigma * Math.sqrt(Math.max(1, factor));
  return { h, mean, lower: mean - half, upper: mean + half };
}

/**
 * The first step (fractional, interpolated between whole steps) at which `pick` of the forecast
 * reaches `limit`, within `horizon` steps; `null` when it does not.
 *
 * @example
 * ```ts
 * crossing(model, 1_000, 500, 0.95, (p) => p.upper); // the earliest plausible crossing
 * ```
 */
export function crossing(
  model: HoltModel,
  limit: number,
  horizon: number,
  confidence: number,
  pick: (point: HoltForecastPoint) => number,
): number | null {
  let previous = pick(holtPoint(model, 0, confidence));
  if (previous >= limit) return 0;
  for (let h = 1; h <= horizon; h++) {
    const value = pick(holtPoint(model, h, confidence));
    if (value >= limit) {
      const fraction = value === previous ? 1 : (limit - previous) / (value - previous);
      return h - 1 + Math.min(1, Math.max(0, fraction));
    }
    previous = value;
  }
  return null;
}
