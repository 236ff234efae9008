// The options of the security façade, and their checks: each bad value is refused with a
// SecurityConfigError naming its field, at construction, never at the first request.
import type { Clock } from '../core/clock.js';
import type { Duration } from '../core/duration.js';
import { describeValue } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SystemMetricsSnapshot } from '../performance/types.js';
import type { RedisClient } from '../redis/client.js';
import type { ClientKeyOptions } from './client-key/client-key.js';
import type { ClientsOptions } from './clients/clients.js';
import { SecurityConfigError } from './errors.js';
import type { LoginAnalyticsOptions } from './logins/options.js';
import type { RateLimitAlgorithm } from './rate-limit/types.js';
import type { SecurityScoreComponentName } from './score.js';
import type { ScreenerOptions } from './screening/types.js';
import type { BanStore, RateLimitStore } from './types.js';

/**
 * How limits tighten: for risky clients (by their risk score) and for everyone while the service is
 * under pressure. The multipliers of both apply together; each change is an event.
 *
 * @example
 * ```ts
 * const dynamic: DynamicLimitsOptions = {
 *   risk: { from: 30, to: 80, floor: 0.25 },
 *   pressure: { eventLoopDelayMs: 200, cpuPercent: 90, errorRate: 0.2, multiplier: 0.5 },
 * };
 * ```
 */
export interface DynamicLimitsOptions {
  /**
   * Per client: the multiplier falls from 1 at risk `from` to `floor` at risk `to`, in steps of a
   * quarter (so a client moves between a few levels, each an event). `false` turns it off.
   * @defaultValue `{ from: 30, to: 80, floor: 0.25 }`
   */
  risk?: { from?: number; to?: number; floor?: number } | false;
  /**
   * For everyone: under pressure (the event loop's p99 delay, the CPU, or the share of 5xx
   * responses over the last minute above its bound) every limit is multiplied by `multiplier`,
   * until the service has been below every bound for `relaxAfter`. `false` turns it off.
   * @defaultValue `{ eventLoopDelayMs: 200, cpuPercent: 90, errorRate: 0.25, multiplier: 0.5, relaxAfter: '30s' }`
   */
  pressure?:
    | {
        eventLoopDelayMs?: number;
        cpuPercent?: number;
        errorRate?: number;
        multiplier?: number;
        relaxAfter?: Duration;
      }
    | false;
}

/**
 * Options of the security module (`createEnterprise({ security })`, or `new Security(options)`).
 *
 * @example
 * ```ts
 * const enterprise = createEnterprise({
 *   security: {
 *     mode: 'block',
 *     clientKey: { trustProxy: ['10.0.0.0/8'] },
 *     logins: { lockout: { failures: 5, duration: '15m' } },
 *     clients: { deny: ['192.0.2.0/24'], autoBan: { threshold: 80, duration: '1h' } },
 *     rateLimit: { default: { limit: 600, window: '1m' } },
 *   },
 * });
 * ```
 */
export interface SecurityOptions {
  /**
   * `detect` reports threats; `block` also refuses the requests of strong findings with a 403.
   * @defaultValue 'detect'
   */
  mode?: 'detect' | 'block';
  /** Request screening: rules, limits, auth bursts (see {@link ScreenerOptions}); `false` for none. */
  screening?: Omit<ScreenerOptions, 'mode' | 'now'> | false;
  /** How the client key is found behind proxies; never from forwarding headers by default. */
  clientKey?: ClientKeyOptions;
  /** Authentication analytics: window, detectors, lockout and delay. */
  logins?: Omit<LoginAnalyticsOptions, 'clock'>;
  /** Allow and deny lists, risk scoring and automatic bans. */
  clients?: Omit<ClientsOptions, 'clock' | 'bans'>;
  /** Where bans are shared: `'redis'` (the default with Redis configured), `'memory'`, or a store. */
  bans?: {
    store?: 'memory' | 'redis' | BanStore;
    refreshMs?: number;
    storeTimeoutMs?: number;
  };
  /**
   * Rate limits: where they live and what happens when that store fails, and an optional default
   * limit per client for every request through the middleware (routes add their own).
   */
  rateLimit?: {
    /** @defaultValue 'redis' with Redis configured, else 'memory' */
    store?: 'memory' | 'redis' | RateLimitStore;
    /** @defaultValue 'gcra' */
    algorithm?: RateLimitAlgorithm;
    /** @defaultValue 'insurance' (a per-process limiter while the store is down; never 429 for all) */
    onStoreError?: 'insurance' | 'closed';
    /** @defaultValue 500 */
    commandTimeoutMs?: number;
    /** Redis keys start with it. @defaultValue '<redis prefix>:ratelimit' */
    prefix?: string;
    /** A limit per client for every screened request; none unless given. */
    default?: { limit: number; window: Duration };
  };
  /** Dynamic thresholds; see {@link DynamicLimitsOptions}. */
  dynamic?: DynamicLimitsOptions | false;
  /** The security score: its window, threshold, weights and how often it is evaluated. */
  score?: {
    /** @defaultValue 70 */
    threshold?: number;
    /** @defaultValue 5 */
    hysteresis?: number;
    /** The window the score is computed over. @defaultValue '10m' */
    window?: Duration;
    /** How often the score is evaluated once started (an event on each crossing). @defaultValue 15000 */
    intervalMs?: number;
    /** A client is suspicious from this risk on. @defaultValue 50 */
    suspiciousRisk?: number;
    weights?: Partial<Record<SecurityScoreComponentName, number>>;
  };
  /** An ioredis client or Cluster shared by the rate limits and the ban store; never closed by the module. */
  redis?: RedisClient;
  /** A Redis URL; the module opens one connection (and one subscriber for bans) and closes them. */
  redisUrl?: string;
  /** Key prefix in Redis. @defaultValue 'enterprise:security' */
  prefix?: string;
  /** @defaultValue a logger that drops everything */
  logger?: Logger;
  /** The service's figures for pressure: the performance monitor's system metrics. */
  system?: () => SystemMetricsSnapshot | null;
  /** @defaultValue systemClock */
  clock?: Clock;
}

/** The dynamic options, checked and with their defaults. */
export interface ResolvedDynamic {
  risk: { from: number; to: number; floor: number } | undefined;
  pressure:
    | {
        eventLoopDelayMs: number;
        cpuPercent: number;
        errorRate: number;
        multiplier: number;
        relaxAfter: Duration;
      }
    | undefined;
}

/** @internal */
export function invalid(field: string, value: unknown, expected: string): SecurityConfigError {
  return new SecurityConfigError(
    `security: ${field}=${describeValue(value)} is invalid: expected ${expected}`,
    { field, value, expected },
  );
}

function numberIn(value: unknown, field: string, min: number, max: number, fallback: number) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw invalid(field, value, `a number from ${min} to ${max}`);
  }
  return value;
}

/** @internal Checks the options that the parts do not check themselves. */
export function checkSecurityOptions(options: SecurityOptions): ResolvedDynamic {
  if (options === null || typeof options !== 'object') {
    throw invalid('options', options, 'an options object');
  }
  const mode = options.mode ?? 'detect';
  if (mode !== 'detect' && mode !== 'block') throw invalid('mode', mode, "'detect' or 'block'");
  if (options.redis !== undefined && options.redisUrl !== undefined) {
    throw invalid('redis', 'redis and redisUrl', 'either redis or redisUrl, not both');
  }
  const store = options.rateLimit?.store;
  if (store !== undefined && store !== 'memory' && store !== 'redis' && typeof store !== 'object') {
    throw invalid('rateLimit.store', store, "'memory', 'redis' or a RateLimitStore");
  }
  const bans = options.bans?.store;
  if (bans !== undefined && bans !== 'memory' && bans !== 'redis' && typeof bans !== 'object') {
    throw invalid('bans.store', bans, "'memory', 'redis' or a BanStore");
  }
  const redis = options.redis !== undefined || options.redisUrl !== undefined;
  if ((store === 'redis' || bans === 'redis') && !redis) {
    throw invalid(
      store === 'redis' ? 'rateLimit.store' : 'bans.store',
      'redis',
      'redis or redisUrl too',
    );
  }
  if (options.system !== undefined && typeof options.system !== 'function') {
    throw invalid('system', options.system, 'a function returning system metrics');
  }
  return resolveDynamic(options.dynamic);
}

function resolveDynamic(dynamic: SecurityOptions['dynamic']): ResolvedDynamic {
  if (dynamic === false) return { risk: undefined, pressure: undefined };
  if (dynamic !== undefined && (dynamic === null || typeof dynamic !== 'object')) {
    throw invalid('dynamic', dynamic, 'dynamic limit options or false');
  }
  const risk = dynamic?.risk;
  const pressure = dynamic?.pressure;
  const resolvedRisk =
    risk === false
      ? undefined
      : {
          from: numberIn(risk?.from, 'dynamic.risk.from', 0, 100, 30),
          to: numberIn(risk?.to, 'dynamic.risk.to', 0, 100, 80),
          floor: numberIn(risk?.floor, 'dynamic.risk.floor', 0.01, 1, 0.25),
        };
  if (resolvedRisk !== undefined && !(resolvedRisk.to > resolvedRisk.from)) {
    throw invalid('dynamic.risk.to', resolvedRisk.to, `a risk above from (${resolvedRisk.from})`);
  }
  return {
    risk: resolvedRisk,
    pressure:
      pressure === false
        ? undefined
        : {
            eventLoopDelayMs: numberIn(
              pressure?.eventLoopDelayMs,
              'dynamic.pressure.eventLoopDelayMs',
              1,
              60_000,
              200,
            ),
            cpuPercent: numberIn(
              pressure?.cpuPercent,
              'dynamic.pressure.cpuPercent',
              1,
              10_000,
              90,
            ),
            errorRate: numberIn(pressure?.errorRate, 'dynamic.pressure.errorRate', 0.001, 1, 0.25),
            multiplier: numberIn(pressure?.multiplier, 'dynamic.pressure.multiplier', 0.01, 1, 0.5),
            relaxAfter: pressure?.relaxAfter ?? '30s',
          },
  };
}
