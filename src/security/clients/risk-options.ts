import { type Clock, systemClock } from '../../core/clock.js';
import type { Duration } from '../../core/duration.js';
import { nonNegative, positiveDuration, positiveInteger } from '../logins/checks.js';
import type { ThreatCategory } from '../types.js';

/**
 * Points each signal adds to a client's risk (100 is the top of the score). A threat adds its
 * category's points times its confidence; the error part is `errorRatio` times the share of the
 * client's responses that were errors, once it has had `minResponses` of them.
 *
 * @example
 * ```ts
 * const weights: Partial<RiskWeights> = { loginFailure: 5, threats: { scanner: 30 } };
 * ```
 */
export interface RiskWeights {
  /** Points of a threat of confidence 1, by category. */
  threats: Record<ThreatCategory, number>;
  /** Points of one failed login. @defaultValue 4 */
  loginFailure: number;
  /** Points of one rate-limit refusal. @defaultValue 2 */
  rateLimited: number;
  /** Points when every response to the client was an error (4xx or 5xx). @defaultValue 30 */
  errorRatio: number;
  /** Responses before the error ratio counts fully; it counts in proportion below. @defaultValue 20 */
  minResponses: number;
}

/** The default {@link RiskWeights}: attacks that need intent weigh most, noise least. */
export const DEFAULT_RISK_WEIGHTS: Readonly<RiskWeights> = Object.freeze({
  threats: Object.freeze({
    'sql-injection': 30,
    xss: 25,
    'path-traversal': 25,
    'command-injection': 40,
    scanner: 20,
    'sensitive-path': 10,
    'malformed-request': 5,
    'auth-burst': 10,
    'brute-force': 40,
    'password-spraying': 50,
    'credential-stuffing': 30,
  }),
  loginFailure: 4,
  rateLimited: 2,
  errorRatio: 30,
  minResponses: 20,
});

/**
 * Options of {@link ClientRisk}.
 *
 * @example
 * ```ts
 * const options: ClientRiskOptions = { halfLife: '30m', maxClients: 50_000 };
 * ```
 */
export interface ClientRiskOptions {
  /** A client's points halve every `halfLife` without new signals. @defaultValue '1h' */
  halfLife?: Duration;
  /**
   * Clients tracked at once. When full, the clients under `forgetBelow` go, and the lowest risks
   * after them, a tenth of the capacity at a time. @defaultValue 100000
   */
  maxClients?: number;
  /** Clients whose score decayed below this are forgotten first. @defaultValue 1 */
  forgetBelow?: number;
  weights?: Partial<Omit<RiskWeights, 'threats'>> & {
    threats?: Partial<Record<ThreatCategory, number>>;
  };
  /** The time source (tests). @defaultValue systemClock */
  clock?: Clock;
}

/** @internal The options with their defaults, checked. */
export interface ResolvedRiskOptions {
  halfLifeMs: number;
  maxClients: number;
  forgetBelow: number;
  weights: RiskWeights;
  clock: Clock;
}

/** @internal Fills in the defaults; a bad option is a SecurityConfigError naming it. */
export function resolveRiskOptions(options: ClientRiskOptions = {}): ResolvedRiskOptions {
  const given = options.weights ?? {};
  const threats = { ...DEFAULT_RISK_WEIGHTS.threats };
  for (const [category, points] of Object.entries(given.threats ?? {})) {
    threats[category as ThreatCategory] = nonNegative(points, `weights.threats.${category}`);
  }
  const weight = (name: 'loginFailure' | 'rateLimited' | 'errorRatio') =>
    nonNegative(given[name] ?? DEFAULT_RISK_WEIGHTS[name], `weights.${name}`);
  return {
    halfLifeMs: positiveDuration(options.halfLife ?? '1h', 'halfLife'),
    maxClients: positiveInteger(options.maxClients ?? 100_000, 'maxClients'),
    forgetBelow: nonNegative(options.forgetBelow ?? 1, 'forgetBelow'),
    weights: {
      threats,
      loginFailure: weight('loginFailure'),
      rateLimited: weight('rateLimited'),
      errorRatio: weight('errorRatio'),
      minResponses: positiveInteger(
        given.minResponses ?? DEFAULT_RISK_WEIGHTS.minResponses,
        'weights.minResponses',
      ),
    },
    clock: options.clock ?? systemClock,
  };
}
