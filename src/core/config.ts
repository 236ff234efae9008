import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { type Duration, parseDuration } from './duration.js';
import { ConfigError, describeValue } from './errors.js';
import type { LoggerLike, LogLevel } from './logger.js';
import { LOG_LEVELS } from './logger.js';

/** Options of the performance module. Every field is optional; see docs/performance.md. */
export interface PerformanceOptions {
  /**
   * Calls slower than this emit a `slow` event and a warning log. Env: `PERFORMANCE_ALERT_THRESHOLD_MS`.
   * @defaultValue 1000
   */
  alertThresholdMs?: number;
  /**
   * The most operations (name and label set) tracked at once; calls to further operations are
   * counted under `_overflow`. Env: `PERFORMANCE_MAX_METRICS`.
   * @defaultValue 10000
   */
  maxMetrics?: number;
  /**
   * Sample CPU, memory, event-loop delay and utilization, and GC pauses while the instance is started.
   * `false` turns the sampler off. @defaultValue `{ intervalMs: 5000 }`
   */
  systemMetrics?: boolean | { intervalMs?: number };
  /**
   * Mirror spans to OpenTelemetry. `'auto'` uses `@opentelemetry/api` when it is installed and a
   * tracer provider is registered; `true` requires it. @defaultValue 'auto'
   */
  openTelemetry?: boolean | 'auto';
  /** Prometheus exposition settings. */
  prometheus?: {
    /** Prefix of every metric name. @defaultValue 'enterprise_' */
    prefix?: string;
    /** Upper bounds, in seconds, of the duration histogram buckets. */
    buckets?: readonly number[];
  };
  /** At most one slow-call warning per operation per this many milliseconds. @defaultValue 10000 */
  slowLogIntervalMs?: number;
}

/**
 * The options the configuration reads, environment variables included: the common ones and the
 * few of each module that have a variable. `EnterpriseOptions` (src/enterprise.ts) is this with
 * each module's full options.
 *
 * @example
 * ```ts
 * const config = resolveConfig({ logLevel: 'debug', tasks: { workerCount: 4 } });
 * ```
 */
export interface ConfigOptions {
  /** A pino-compatible logger. @defaultValue a pino logger writing JSON to stdout */
  logger?: LoggerLike;
  /** Level of the default logger. Env: `LOG_LEVEL`. @defaultValue 'info' */
  logLevel?: LogLevel;
  /** Redis connection string for the distributed tiers. Env: `REDIS_URL`. */
  redisUrl?: string;
  performance?: PerformanceOptions;
  /** Env: `CACHE_DEFAULT_TTL`, `CACHE_MAX_SIZE`. */
  cache?: { defaultTtl?: Duration; maxSize?: number };
  /** Env: `TASK_QUEUE_NAME`, `TASK_WORKER_COUNT`, `TASK_MAX_RETRIES`. */
  tasks?: { queueName?: string; workerCount?: number; maxRetries?: number };
  /** Where environment variables are read from. @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
  /** Time source, for tests. @defaultValue the system clock */
  clock?: Clock;
}

/** Configuration after options, environment and defaults have been merged and validated. */
export interface ResolvedConfig {
  logLevel: LogLevel;
  redisUrl: string | undefined;
  clock: Clock;
  performance: {
    alertThresholdMs: number;
    maxMetrics: number;
    systemMetricsIntervalMs: number | false;
    openTelemetry: boolean | 'auto';
    prometheusPrefix: string;
    prometheusBuckets: readonly number[];
    slowLogIntervalMs: number;
  };
  cache: { defaultTtlMs: number; maxSize: number };
  tasks: { queueName: string; workerCount: number; maxRetries: number };
}

/** Default Prometheus histogram buckets, in seconds: 1 ms to 10 s. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

type Env = Readonly<Record<string, string | undefined>>;

/** One setting: where its value comes from and how a raw value is checked. */
interface Setting<T> {
  option: string;
  variable?: string;
  expected: string;
  parse: (raw: unknown) => T | undefined;
}

function pick<T>(setting: Setting<T>, fromCode: unknown, env: Env, fallback: T): T {
  if (fromCode !== undefined) return check(setting, fromCode, setting.option);
  const raw = setting.variable === undefined ? undefined : env[setting.variable];
  if (raw !== undefined && raw.trim() !== '') return check(setting, raw, setting.variable!);
  return fallback;
}

function check<T>(setting: Setting<T>, raw: unknown, source: string): T {
  let parsed: T | undefined;
  let cause: unknown;
  try {
    parsed = setting.parse(raw);
  } catch (error) {
    cause = error;
  }
  if (parsed === undefined) {
    throw new ConfigError(
      `${source}=${describeValue(raw)} is invalid: expected ${setting.expected}`,
      { source, value: raw, expected: setting.expected },
      cause,
    );
  }
  return parsed;
}

const toNumber = (raw: unknown): number | undefined => {
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};
const positive = (raw: unknown) => {
  const value = toNumber(raw);
  return value !== undefined && value > 0 ? value : undefined;
};
const positiveInt = (raw: unknown) => {
  const value = toNumber(raw);
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : undefined;
};
const nonNegativeInt = (raw: unknown) => {
  const value = toNumber(raw);
  return value !== undefined && Number.isInteger(value) && value >= 0 ? value : undefined;
};

const SETTINGS = {
  alertThresholdMs: {
    option: 'performance.alertThresholdMs',
    variable: 'PERFORMANCE_ALERT_THRESHOLD_MS',
    expected: 'a positive number of milliseconds',
    parse: positive,
  },
  maxMetrics: {
    option: 'performance.maxMetrics',
    variable: 'PERFORMANCE_MAX_METRICS',
    expected: 'a positive whole number of operations',
    parse: positiveInt,
  },
  systemMetricsIntervalMs: {
    option: 'performance.systemMetrics.intervalMs',
    expected: 'a whole number of milliseconds of at least 100',
    parse: (raw) => {
      const value = positiveInt(raw);
      return value !== undefined && value >= 100 ? value : undefined;
    },
  },
  openTelemetry: {
    option: 'performance.openTelemetry',
    expected: "true, false or 'auto'",
    parse: (raw) => (raw === true || raw === false || raw === 'auto' ? raw : undefined),
  },
  prometheusPrefix: {
    option: 'performance.prometheus.prefix',
    expected: 'a metric name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]* (or an empty string)',
    parse: (raw) =>
      typeof raw === 'string' && /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(raw) ? raw : undefined,
  },
  prometheusBuckets: {
    option: 'performance.prometheus.buckets',
    expected: 'a non-empty, strictly increasing list of positive finite numbers of seconds',
    parse: (raw) =>
      Array.isArray(raw) &&
      raw.length > 0 &&
      raw.every(
        (b, i) =>
          typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > raw[i - 1]),
      )
        ? Object.freeze([...raw] as number[])
        : undefined,
  },
  slowLogIntervalMs: {
    option: 'performance.slowLogIntervalMs',
    expected: 'a non-negative whole number of milliseconds',
    parse: nonNegativeInt,
  },
  redisUrl: {
    option: 'redisUrl',
    variable: 'REDIS_URL',
    expected: 'a redis:// or rediss:// URL such as redis://localhost:6379/0',
    parse: (raw) => {
      if (typeof raw !== 'string') return undefined;
      const url = new URL(raw);
      return url.protocol === 'redis:' || url.protocol === 'rediss:' ? raw : undefined;
    },
  },
  defaultTtlMs: {
    option: 'cache.defaultTtl',
    variable: 'CACHE_DEFAULT_TTL',
    expected: "a positive number of seconds or a duration such as '30s', '5m', '1h'",
    parse: (raw) => {
      const ms = parseDuration(raw, 'cache.defaultTtl');
      return ms > 0 ? ms : undefined;
    },
  },
  maxSize: {
    option: 'cache.maxSize',
    variable: 'CACHE_MAX_SIZE',
    expected: 'a positive whole number of entries',
    parse: positiveInt,
  },
  queueName: {
    option: 'tasks.queueName',
    variable: 'TASK_QUEUE_NAME',
    expected: 'a name of 1 to 100 characters from [A-Za-z0-9_.:-]',
    parse: (raw) =>
      typeof raw === 'string' && /^[A-Za-z0-9_.:-]{1,100}$/.test(raw) ? raw : undefined,
  },
  workerCount: {
    option: 'tasks.workerCount',
    variable: 'TASK_WORKER_COUNT',
    expected: 'a positive whole number of worker slots',
    parse: positiveInt,
  },
  maxRetries: {
    option: 'tasks.maxRetries',
    variable: 'TASK_MAX_RETRIES',
    expected: 'a non-negative whole number of retries',
    parse: nonNegativeInt,
  },
  logLevel: {
    option: 'logLevel',
    variable: 'LOG_LEVEL',
    expected: `one of ${LOG_LEVELS.join(', ')}`,
    parse: (raw) =>
      typeof raw === 'string' && (LOG_LEVELS as readonly string[]).includes(raw)
        ? (raw as LogLevel)
        : undefined,
  },
} satisfies Record<string, Setting<unknown>>;

/**
 * Merges options, environment variables and defaults, and validates every value.
 *
 * Reads the environment only when called, never at import time.
 *
 * @throws ConfigError naming the option or variable, the value and what was expected.
 * @example
 * ```ts
 * const config = resolveConfig({ performance: { maxMetrics: 500 } }, { CACHE_DEFAULT_TTL: '5m' });
 * config.cache.defaultTtlMs; // 300000
 * ```
 */
export function resolveConfig(options: ConfigOptions = {}, env?: Env): ResolvedConfig {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(`options=${describeValue(options)} is invalid: expected an object`, {
      source: 'options',
      value: options,
      expected: 'an object',
    });
  }
  const source: Env = env ?? options.env ?? process.env;
  const perf = options.performance ?? {};
  const system = perf.systemMetrics;
  const systemInterval =
    system === false
      ? false
      : pick(
          SETTINGS.systemMetricsIntervalMs,
          typeof system === 'object' ? system.intervalMs : undefined,
          source,
          5_000,
        );
  return {
    logLevel: pick(SETTINGS.logLevel, options.logLevel, source, 'info'),
    redisUrl: pick<string | undefined>(SETTINGS.redisUrl, options.redisUrl, source, undefined),
    clock: options.clock ?? systemClock,
    performance: {
      alertThresholdMs: pick(SETTINGS.alertThresholdMs, perf.alertThresholdMs, source, 1_000),
      maxMetrics: pick(SETTINGS.maxMetrics, perf.maxMetrics, source, 10_000),
      systemMetricsIntervalMs: systemInterval,
      openTelemetry: pick(SETTINGS.openTelemetry, perf.openTelemetry, source, 'auto'),
      prometheusPrefix: pick(
        SETTINGS.prometheusPrefix,
        perf.prometheus?.prefix,
        source,
        'enterprise_',
      ),
      prometheusBuckets: pick(
        SETTINGS.prometheusBuckets,
        perf.prometheus?.buckets,
        source,
        DEFAULT_BUCKETS,
      ),
      slowLogIntervalMs: pick(SETTINGS.slowLogIntervalMs, perf.slowLogIntervalMs, source, 10_000),
    },
    cache: {
      defaultTtlMs: pick(SETTINGS.defaultTtlMs, options.cache?.defaultTtl, source, 3_600_000),
      maxSize: pick(SETTINGS.maxSize, options.cache?.maxSize, source, 10_000),
    },
    tasks: {
      queueName: pick(SETTINGS.queueName, options.tasks?.queueName, source, 'default'),
      workerCount: pick(SETTINGS.workerCount, options.tasks?.workerCount, source, 2),
      maxRetries: pick(SETTINGS.maxRetries, options.tasks?.maxRetries, source, 3),
    },
  };
}
