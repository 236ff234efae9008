// The security score: one figure, 0 to 100, from what the security parts saw over a window, with
// the components that make it up, and a monitor that reports once when it falls below a threshold.
import { describeValue } from '../core/errors.js';
import { Emitter } from '../core/events.js';
import { SecurityConfigError } from './errors.js';

/**
 * What the score is computed from: the figures of one window (the last 10 minutes, say), and the
 * configuration checks the host reports.
 *
 * @example
 * ```ts
 * const inputs: SecurityScoreInputs = {
 *   requests: 120_000,
 *   logins: { attempts: 900, failed: 41 },
 *   threats: 12,
 *   rateLimited: 30,
 *   bans: 1,
 *   clients: { total: 4_000, suspicious: 3 },
 *   config: { monitoringProtected: true, securityHeaders: true, httpsSeen: true },
 * };
 * ```
 */
export interface SecurityScoreInputs {
  /** Requests served in the window. */
  requests: number;
  /** Login attempts and the failed ones in the window (`logins.stats()`). */
  logins?: { attempts: number; failed: number };
  /** Threats detected in the window. */
  threats?: number;
  /** Requests refused by the rate limiter in the window. */
  rateLimited?: number;
  /** Bans made in the window. */
  bans?: number;
  /** Clients seen, and those whose risk is above the suspicious threshold (`risk.summary(50)`). */
  clients?: { total: number; suspicious: number };
  /** Configuration checks; one left out counts for nothing either way. */
  config?: {
    /** The monitoring router asks for authentication. */
    monitoringProtected?: boolean;
    /** Responses carry the security headers. */
    securityHeaders?: boolean;
    /** Requests arrive over HTTPS, as seen directly or through trusted proxies. */
    httpsSeen?: boolean;
  };
}

/** The names of the score's components. */
export type SecurityScoreComponentName =
  | 'failed-logins'
  | 'threats'
  | 'pressure'
  | 'suspicious-clients'
  | 'hygiene';

/**
 * One part of the score: `value` 1 is healthy, 0 is as bad as it gets; `weight` is its share of
 * the score (the weights of the components counted add up to 1).
 */
export interface SecurityScoreComponent {
  name: SecurityScoreComponentName;
  weight: number;
  value: number;
  /** What the value was made from, for people. */
  detail: string;
}

/**
 * What {@link securityScore} returns.
 *
 * @example
 * ```ts
 * const { score, components } = securityScore(inputs);
 * ```
 */
export interface SecurityScoreResult {
  /**
   * 0 to 100, to one decimal: 100 × (0.7 × the weighted mean of the components' values + 0.3 ×
   * the lowest value).
   */
  score: number;
  components: SecurityScoreComponent[];
}

/** The default weight of each component (they add up to 1). */
export const DEFAULT_SCORE_WEIGHTS: Readonly<Record<SecurityScoreComponentName, number>> =
  Object.freeze({
    'failed-logins': 0.25,
    threats: 0.25,
    pressure: 0.15,
    'suspicious-clients': 0.2,
    hygiene: 0.15,
  });

/**
 * The share of the score that follows the worst component: one signal gone bad (a credential
 * stuffing run alone) must pull the score down, not be averaged away by the quiet others.
 */
const WORST_PULL = 0.3;
/** The failure share of an ordinary login mix (typos): no penalty up to it. */
const NORMAL_FAILURE_RATE = 0.1;
/** The failure share at which the login component reaches 0. */
const WORST_FAILURE_RATE = 0.5;
/** Attempts of prior weight: a handful of logins cannot swing the rate alone. */
const PRIOR_ATTEMPTS = 20;
/** Threats per 1,000 requests at which the threat component reaches 0. */
const WORST_THREATS_PER_1K = 20;
/** Refusals per 1,000 requests, and bans per 1,000 requests, that each take the pressure to 0. */
const WORST_REFUSED_PER_1K = 50;
const WORST_BANS_PER_1K = 5;
/** The share of suspicious clients at which that component reaches 0. */
const WORST_SUSPICIOUS_SHARE = 0.05;
/** Shares are taken over at least this many clients, so 1 of 3 is not a third. */
const MIN_CLIENTS = 100;

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * The security score of one window, 0 to 100, and its components:
 *
 * - `failed-logins`: the failure share r = (failed + 2) / (attempts + 20) (20 attempts of prior at
 *   10%); value 1 − (r − 0.1) / 0.4, so up to 10% costs nothing and 50% or more takes it to 0;
 * - `threats`: t threats per 1,000 requests; value 1 − t / 20;
 * - `pressure`: rate-limit refusals and bans per 1,000 requests; value 1 − refused/50 − bans/5;
 * - `suspicious-clients`: the share s of clients above the risk threshold (over at least 100
 *   clients); value 1 − s / 0.05;
 * - `hygiene`: the share of the configuration checks given that hold; left out when none is given.
 *
 * Each value is clamped to 0..1. With the weights normalised over the components counted (those
 * of weight 0 are not), the score is 100 × (0.7 × Σ weight × value + 0.3 × the lowest value): a
 * quiet window scores near 100, and one component at 0 costs its weight and 30 points more.
 * Weights default to {@link DEFAULT_SCORE_WEIGHTS}.
 *
 * @example
 * ```ts
 * const { score } = securityScore({ requests: 10_000, logins: { attempts: 200, failed: 9 } });
 * // 100: nothing in the window points to an attack
 * ```
 */
export function securityScore(
  inputs: SecurityScoreInputs,
  weights: Partial<Record<SecurityScoreComponentName, number>> = {},
): SecurityScoreResult {
  const resolved = resolveWeights(weights);
  const requests = count(inputs.requests, 'requests');
  const parts: Omit<SecurityScoreComponent, 'weight'>[] = [
    loginComponent(inputs.logins),
    threatComponent(requests, count(inputs.threats ?? 0, 'threats')),
    pressureComponent(
      requests,
      count(inputs.rateLimited ?? 0, 'rateLimited'),
      count(inputs.bans ?? 0, 'bans'),
    ),
    suspiciousComponent(inputs.clients),
  ];
  const hygiene = hygieneComponent(inputs.config);
  if (hygiene !== undefined) parts.push(hygiene);
  const total = parts.reduce((sum, part) => sum + resolved[part.name], 0);
  const components = parts.map((part) => ({
    name: part.name,
    weight: total === 0 ? 0 : resolved[part.name] / total,
    value: part.value,
    detail: part.detail,
  }));
  const counted = components.filter((c) => c.weight > 0);
  // Only hygiene weighed, and no check given: nothing to judge.
  if (counted.length === 0) return { score: 100, components };
  const mean = counted.reduce((sum, c) => sum + c.weight * c.value, 0);
  const worst = Math.min(...counted.map((c) => c.value));
  const score = 100 * ((1 - WORST_PULL) * mean + WORST_PULL * worst);
  return { score: Math.round(score * 10) / 10, components };
}

/**
 * Options of {@link SecurityScoreMonitor}.
 *
 * @example
 * ```ts
 * const options: SecurityScoreMonitorOptions = { threshold: 70, hysteresis: 5 };
 * ```
 */
export interface SecurityScoreMonitorOptions {
  /** Below this the score is low. @defaultValue 70 */
  threshold?: number;
  /** A low score is back to normal only at `threshold + hysteresis` or above. @defaultValue 5 */
  hysteresis?: number;
  /** The weights of the components; see {@link DEFAULT_SCORE_WEIGHTS}. */
  weights?: Partial<Record<SecurityScoreComponentName, number>>;
}

/**
 * A crossing of the threshold, as the monitor reports it.
 *
 * @example
 * ```ts
 * monitor.on('score-low', ({ score, threshold }) => alert(`security score ${score} < ${threshold}`));
 * ```
 */
export interface SecurityScoreEvent {
  score: number;
  threshold: number;
  result: SecurityScoreResult;
}

/**
 * The events of a {@link SecurityScoreMonitor}.
 *
 * @example
 * ```ts
 * monitor.on('score-recovered', ({ score }) => log.info({ score }, 'security score back up'));
 * ```
 */
export type SecurityScoreEvents = {
  /** The score fell below the threshold (once per crossing). */
  'score-low': [event: SecurityScoreEvent];
  /** A low score came back to `threshold + hysteresis` or above. */
  'score-recovered': [event: SecurityScoreEvent];
};

/**
 * Scores each window it is given and reports crossings: `score-low` once when the score falls
 * below `threshold`, then nothing until it has come back to `threshold + hysteresis`
 * (`score-recovered`), so a score hovering around the threshold reports one crossing, not one per
 * evaluation.
 *
 * @example
 * ```ts
 * const monitor = new SecurityScoreMonitor({ threshold: 70 });
 * monitor.on('score-low', ({ score }) => alerts.raise('SecurityScoreLow', { score }));
 * setInterval(() => monitor.evaluate(collectInputs()), 60_000).unref();
 * ```
 */
export class SecurityScoreMonitor extends Emitter<SecurityScoreEvents> {
  readonly threshold: number;
  readonly hysteresis: number;
  readonly #weights: Partial<Record<SecurityScoreComponentName, number>>;
  #low = false;
  #last: SecurityScoreResult | undefined;

  constructor(options: SecurityScoreMonitorOptions = {}) {
    super();
    const threshold = options.threshold ?? 70;
    if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 100)) {
      throw new SecurityConfigError(
        `threshold=${describeValue(threshold)} is invalid: expected a score from 0 to 100`,
        { field: 'threshold', value: threshold, expected: 'a number from 0 to 100' },
      );
    }
    this.threshold = threshold;
    this.hysteresis = count(options.hysteresis ?? 5, 'hysteresis');
    this.#weights = options.weights ?? {};
    resolveWeights(this.#weights);
  }

  /** Whether the score is low now (fell below the threshold and has not recovered). */
  get low(): boolean {
    return this.#low;
  }

  /** The last result, if any. */
  get last(): SecurityScoreResult | undefined {
    return this.#last;
  }

  /** Scores `inputs`, reports a crossing if there is one, and returns the result. */
  evaluate(inputs: SecurityScoreInputs): SecurityScoreResult {
    const result = securityScore(inputs, this.#weights);
    this.#last = result;
    const event = { score: result.score, threshold: this.threshold, result };
    if (!this.#low && result.score < this.threshold) {
      this.#low = true;
      this.emit('score-low', event);
    } else if (this.#low && result.score >= this.threshold + this.hysteresis) {
      this.#low = false;
      this.emit('score-recovered', event);
    }
    return result;
  }
}

function loginComponent(
  logins: SecurityScoreInputs['logins'],
): Omit<SecurityScoreComponent, 'weight'> {
  const attempts = count(logins?.attempts ?? 0, 'logins.attempts');
  const failed = Math.min(attempts, count(logins?.failed ?? 0, 'logins.failed'));
  const rate = (failed + PRIOR_ATTEMPTS * NORMAL_FAILURE_RATE) / (attempts + PRIOR_ATTEMPTS);
  const value = clamp01(
    1 - (rate - NORMAL_FAILURE_RATE) / (WORST_FAILURE_RATE - NORMAL_FAILURE_RATE),
  );
  const detail =
    attempts === 0
      ? 'no login attempts'
      : `${failed} of ${attempts} logins failed (${percent(failed / attempts)})`;
  return { name: 'failed-logins', value, detail };
}

function threatComponent(
  requests: number,
  threats: number,
): Omit<SecurityScoreComponent, 'weight'> {
  const perK = (1_000 * threats) / Math.max(1, requests, threats);
  return {
    name: 'threats',
    value: clamp01(1 - perK / WORST_THREATS_PER_1K),
    detail: `${threats} threats in ${requests} requests (${perK.toFixed(2)} per 1,000)`,
  };
}

function pressureComponent(
  requests: number,
  rateLimited: number,
  bans: number,
): Omit<SecurityScoreComponent, 'weight'> {
  const base = Math.max(1, requests, rateLimited);
  const refusedPerK = (1_000 * rateLimited) / base;
  const bansPerK = (1_000 * bans) / base;
  return {
    name: 'pressure',
    value: clamp01(1 - refusedPerK / WORST_REFUSED_PER_1K - bansPerK / WORST_BANS_PER_1K),
    detail: `${rateLimited} rate-limited (${refusedPerK.toFixed(2)} per 1,000 requests), ${bans} bans`,
  };
}

function suspiciousComponent(
  clients: SecurityScoreInputs['clients'],
): Omit<SecurityScoreComponent, 'weight'> {
  const total = count(clients?.total ?? 0, 'clients.total');
  const suspicious = count(clients?.suspicious ?? 0, 'clients.suspicious');
  const share = suspicious / Math.max(MIN_CLIENTS, total, suspicious);
  return {
    name: 'suspicious-clients',
    value: clamp01(1 - share / WORST_SUSPICIOUS_SHARE),
    detail: `${suspicious} of ${total} clients above the risk threshold`,
  };
}

function hygieneComponent(
  config: SecurityScoreInputs['config'],
): Omit<SecurityScoreComponent, 'weight'> | undefined {
  const checks: [string, boolean | undefined][] = [
    ['monitoring protected', config?.monitoringProtected],
    ['security headers', config?.securityHeaders],
    ['HTTPS', config?.httpsSeen],
  ];
  const given = checks.filter(([, ok]) => typeof ok === 'boolean');
  if (given.length === 0) return undefined;
  const failing = given.filter(([, ok]) => !ok).map(([name]) => name);
  return {
    name: 'hygiene',
    value: (given.length - failing.length) / given.length,
    detail:
      failing.length === 0
        ? `${given.length} of ${given.length} checks hold`
        : `missing: ${failing.join(', ')}`,
  };
}

function resolveWeights(
  weights: Partial<Record<SecurityScoreComponentName, number>>,
): Record<SecurityScoreComponentName, number> {
  const resolved = { ...DEFAULT_SCORE_WEIGHTS };
  for (const [name, weight] of Object.entries(weights ?? {})) {
    if (!(name in DEFAULT_SCORE_WEIGHTS)) {
      throw new SecurityConfigError(`weights.${name} is not a component of the score`, {
        field: `weights.${name}`,
        value: weight,
        expected: Object.keys(DEFAULT_SCORE_WEIGHTS).join(', '),
      });
    }
    resolved[name as SecurityScoreComponentName] = count(weight, `weights.${name}`);
  }
  if (Object.values(resolved).every((weight) => weight === 0)) {
    throw new SecurityConfigError('weights: at least one weight must be above 0', {
      field: 'weights',
      value: weights,
      expected: 'a weight above 0',
    });
  }
  return resolved;
}

/** A finite number not below 0. */
function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new SecurityConfigError(
      `${field}=${describeValue(value)} is invalid: expected a finite number not below 0`,
      { field, value, expected: 'a finite number not below 0' },
    );
  }
  return value;
}
