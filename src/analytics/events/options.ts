import { type Clock, systemClock } from '../../core/clock.js';
import { type Duration, parseDuration } from '../../core/duration.js';
import { describeValue } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RedisClient } from '../../redis/client.js';
import { resolveStoreChoice, type StoreChoice } from '../../redis/store-choice.js';
import { AnalyticsConfigError } from './errors.js';
import type { AnalyticsStore, CohortDefinition, FunnelDefinition } from './types.js';

/** The longest event name `track()` accepts, in characters. */
export const MAX_EVENT_NAME = 200;
/** The most weeks a cohort can be followed. */
export const MAX_COHORT_WEEKS = 32;

/**
 * A funnel of {@link AnalyticsOptions}: event names in order, and the time allowed from the first
 * step to the last.
 *
 * @example
 * ```ts
 * const checkout: FunnelOptions = { steps: ['view', 'cart', 'pay'], within: '1h' };
 * ```
 */
export interface FunnelOptions {
  /** Two or more event names, in the order a user must do them. */
  steps: readonly string[];
  /** The longest time from the first step to the last. At most 90 days. @defaultValue '1d' */
  within?: Duration;
}

/**
 * Options of {@link Analytics}. Every field is optional: without any, events go to a memory store
 * with a random hash key of this process.
 *
 * @example
 * ```ts
 * const options: AnalyticsOptions = {
 *   redisUrl: process.env.REDIS_URL,
 *   hashKey: process.env.ANALYTICS_HASH_KEY,
 *   funnels: { checkout: { steps: ['view', 'cart', 'pay'], within: '1h' } },
 *   cohorts: { weeks: 8, startEvent: 'signup' },
 * };
 * ```
 */
export interface AnalyticsOptions {
  /** `'memory'` (one process), `'redis'` (a deployment; needs `redis` or `redisUrl`) or a store. Default: `'redis'` when `redis` or `redisUrl` is given, else `'memory'`. */
  store?: AnalyticsStore | 'memory' | 'redis';
  /** A client for the Redis store; never closed by the module. */
  redis?: RedisClient;
  /** A Redis URL for the Redis store; its connection is closed by `close()`. */
  redisUrl?: string;
  /** The Redis store's key prefix (its hash tag). @defaultValue 'enterprise:analytics' */
  prefix?: string;
  /** Longest wait for one store call. @defaultValue 2000 */
  commandTimeoutMs?: number;
  /**
   * The secret of the keyed hash that pseudonymises user ids (at least 16 bytes), the same on
   * every instance. Default: `ANALYTICS_HASH_KEY`; required with a shared (Redis) store, a random
   * key of this process otherwise.
   */
  hashKey?: string | Uint8Array;
  /** Funnels to follow, by name. Figures start when a funnel is defined; raw events are not kept to rebuild them. */
  funnels?: Readonly<Record<string, FunnelOptions>>;
  /** Weekly retention cohorts. */
  cohorts?: {
    /** Weeks followed, the cohort's own included (1–32). @defaultValue 12 */
    weeks?: number;
    /** The event that puts a user in a cohort. Default: any (the week a user is first seen). */
    startEvent?: string;
    /** The event that counts as coming back. Default: any. */
    returnEvent?: string;
  };
  /** How long counts, active users and funnel figures are kept. @defaultValue '90d' */
  dataRetention?: Duration;
  /** How often buffered events are written. @defaultValue '1s' */
  flushInterval?: Duration;
  /** Events per store write; a full batch is written without waiting for the interval. @defaultValue 1000 */
  batchSize?: number;
  /** Events kept in memory while the store cannot take them; past it events are dropped (`overflow`): new ones while the raw buffer is full, else the oldest batches. @defaultValue 100000 */
  maxBuffered?: number;
  /** Distinct event names accepted by this process; events with a new name past it are dropped. @defaultValue 1000 */
  maxEventNames?: number;
  /** The latest events kept in memory with their properties, for `recent()`. 0 keeps none. @defaultValue 100 */
  recentEvents?: number;
  /** How long `close()` waits for the last write. @defaultValue '5s' */
  closeTimeout?: Duration;
  /** Where warnings go (dropped events, store errors). Default: the package's JSON logger. */
  logger?: Logger;
  /** The time source (tests). @defaultValue systemClock */
  clock?: Clock;
  /** Where `ANALYTICS_HASH_KEY` is read from. @defaultValue process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * @internal Whether `value` can name an event or a funnel: 1 to {@link MAX_EVENT_NAME}
 * characters without lone surrogates (Redis would store them all as U+FFFD, merging names).
 */
export function isName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_EVENT_NAME &&
    // Node 20 has it; the ES2023 library types do not.
    (value as unknown as { isWellFormed(): boolean }).isWellFormed()
  );
}

/** @internal The options checked, durations in milliseconds. */
export interface ResolvedAnalyticsOptions {
  store: StoreChoice<AnalyticsStore>;
  commandTimeoutMs: number;
  hashKey: string | Uint8Array | undefined;
  hashKeyFromEnv: string | undefined;
  funnels: FunnelDefinition[];
  cohorts: CohortDefinition;
  retentionMs: number;
  flushIntervalMs: number;
  batchSize: number;
  maxBuffered: number;
  maxEventNames: number;
  recentEvents: number;
  closeTimeoutMs: number;
  logger: Logger | undefined;
  clock: Clock;
}

/**
 * @internal Checks `options`; a bad one is an {@link AnalyticsConfigError} naming the field
 * (`funnels.checkout.steps`, `dataRetention`, `redisUrl`...).
 */
export function resolveAnalyticsOptions(options: AnalyticsOptions = {}): ResolvedAnalyticsOptions {
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new AnalyticsConfigError(
      `analytics option ${field}=${describeValue(value)} is invalid: expected ${expected}`,
      { field, value, expected },
    );
  };
  const duration = (field: string, value: unknown, fallback: number, max?: number): number => {
    if (value === undefined) return fallback;
    let ms = Number.NaN;
    try {
      ms = parseDuration(value, field);
    } catch {
      // reported below
    }
    if (!(ms > 0) || (max !== undefined && ms > max)) {
      fail(field, value, "a positive duration such as 30 (seconds), '5m', '1h', '7d'");
    }
    return ms;
  };
  const integer = (
    field: string,
    value: unknown,
    fallback: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ) => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
      fail(field, value, `an integer from ${min} to ${max}`);
    }
    return value as number;
  };
  const eventName = (field: string, value: unknown): string => {
    if (!isName(value)) {
      fail(field, value, `an event name (1 to ${MAX_EVENT_NAME} characters)`);
    }
    return value as string;
  };
  const funnels: FunnelDefinition[] = [];
  const given = options.funnels ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    fail('funnels', given, 'an object of funnels by name');
  }
  for (const [name, funnel] of Object.entries(given)) {
    const field = `funnels.${name}`;
    if (!isName(name)) {
      fail(field, name, `a funnel name (1 to ${MAX_EVENT_NAME} characters)`);
    }
    if (!Array.isArray(funnel?.steps) || funnel.steps.length < 2 || funnel.steps.length > 20) {
      fail(`${field}.steps`, funnel?.steps, 'an array of 2 to 20 event names');
    }
    const steps = funnel.steps.map((step, i) => eventName(`${field}.steps[${i}]`, step));
    const withinMs = duration(`${field}.within`, funnel.within, 86_400_000, 90 * 86_400_000);
    funnels.push({ name, steps, withinMs });
  }
  const cohortOptions = options.cohorts ?? {};
  const cohorts: CohortDefinition = {
    weeks: integer('cohorts.weeks', cohortOptions.weeks, 12, 1, MAX_COHORT_WEEKS),
    ...(cohortOptions.startEvent === undefined
      ? {}
      : { startEvent: eventName('cohorts.startEvent', cohortOptions.startEvent) }),
    ...(cohortOptions.returnEvent === undefined
      ? {}
      : { returnEvent: eventName('cohorts.returnEvent', cohortOptions.returnEvent) }),
  };
  const commandTimeoutMs = options.commandTimeoutMs ?? 2_000;
  if (typeof commandTimeoutMs !== 'number' || !(commandTimeoutMs > 0)) {
    fail('commandTimeoutMs', commandTimeoutMs, 'a positive number of milliseconds');
  }
  const env = options.env ?? process.env;
  return {
    store: resolveStoreChoice(
      options,
      {
        name: 'AnalyticsStore',
        methods: ['record', 'eventCounts', 'activeUsers', 'funnel', 'cohorts'],
        defaultPrefix: 'enterprise:analytics',
      },
      fail,
    ),
    commandTimeoutMs,
    hashKey: options.hashKey,
    hashKeyFromEnv: env.ANALYTICS_HASH_KEY,
    funnels,
    cohorts,
    retentionMs: duration('dataRetention', options.dataRetention, 90 * 86_400_000),
    flushIntervalMs: duration('flushInterval', options.flushInterval, 1_000),
    batchSize: integer('batchSize', options.batchSize, 1_000, 1, 10_000),
    maxBuffered: integer('maxBuffered', options.maxBuffered, 100_000, 1),
    maxEventNames: integer('maxEventNames', options.maxEventNames, 1_000, 1),
    recentEvents: integer('recentEvents', options.recentEvents, 100, 0, 10_000),
    closeTimeoutMs: duration('closeTimeout', options.closeTimeout, 5_000),
    logger: options.logger,
    clock: options.clock ?? systemClock,
  };
}
