import type { Clock } from '../core/clock.js';
import type { Duration } from '../core/duration.js';
import { parseDuration } from '../core/duration.js';
import { describeValue } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { RedisClient } from '../redis/client.js';
import { resolveStoreChoice, type StoreChoice } from '../redis/store-choice.js';
import type { RecommendationReader } from './advisor.js';
import type { AlertDeliver } from './delivery.js';
import { AlertChannelError, AlertRuleError } from './errors.js';
import {
  checkGroupBy,
  type EscalationPolicy,
  type ResolvedPolicy,
  resolvePolicies,
} from './escalation.js';
import type { AlertHistoryReader } from './history-reader.js';
import { type CompiledInhibition, compileInhibitions, type InhibitionRule } from './inhibit.js';
import type { RecommendOptions } from './recommendation-types.js';
import type { AlertChannel, AlertRuleDefinition, AlertStore, ValueSource } from './types.js';

/**
 * How alerts are grouped and how often groups are notified, as in an Alertmanager route. An
 * escalation policy may override each of them.
 *
 * @example
 * ```ts
 * const route: AlertRouteOptions = { groupBy: ['alertname', 'service'], groupWait: '10s', repeatInterval: '1h' };
 * ```
 */
export interface AlertRouteOptions {
  /** Labels whose values make a group; `['...']` groups by every label. @defaultValue ['alertname'] */
  groupBy?: string[];
  /** How long a new group waits for more alerts before its first notification. @defaultValue '30s' */
  groupWait?: Duration;
  /** How long after a notification a group waits before telling what changed. @defaultValue '5m' */
  groupInterval?: Duration;
  /** How often a group still firing and unacknowledged is notified again. @defaultValue '4h' */
  repeatInterval?: Duration;
}

/**
 * Options of {@link Alerts}: rules and sources, channels and how they are notified, and where the
 * state shared by the instances of a deployment lives.
 *
 * @example
 * ```ts
 * const alerts = new Alerts({
 *   rules: [{ name: 'QueueBacklog', watch: 'tasks.queue_depth', condition: { above: 1_000 }, for: '5m' }],
 *   channels: [slack],
 *   route: { groupBy: ['alertname', 'queue'] },
 *   redisUrl: process.env.REDIS_URL,
 * });
 * ```
 */
export interface AlertsOptions {
  rules?: AlertRuleDefinition[];
  /** Value sources, registered before the rules are checked. */
  sources?: ValueSource[];
  /** How often rules are evaluated (a rule's `interval` overrides it). @defaultValue 15 (seconds) */
  evaluationInterval?: Duration;
  /** Longest wait for a source or a watch function; a slower read is an `error`. @defaultValue '10s' */
  sourceTimeout?: Duration;
  channels?: AlertChannel[];
  /** Where notifications go when no channel is configured. Default: a log line through `logger`. */
  defaultChannel?: AlertChannel;
  policies?: EscalationPolicy[];
  route?: AlertRouteOptions;
  inhibitions?: InhibitionRule[];
  /** `'memory'` (one process), `'redis'` (a deployment; needs `redis` or `redisUrl`) or a store. Default: `'redis'` when `redis` or `redisUrl` is given, else `'memory'`. */
  store?: AlertStore | 'memory' | 'redis';
  /** A client for the Redis store; never closed by the module. */
  redis?: RedisClient;
  /** A Redis URL for the Redis store; its connection is closed by `close()`. */
  redisUrl?: string;
  /** The Redis store's key prefix (its hash tag). @defaultValue 'enterprise:alerts' */
  prefix?: string;
  /** Longest wait for one store call. @defaultValue 1000 */
  commandTimeoutMs?: number;
  /** Transitions kept in history. @defaultValue 1000 */
  historyLimit?: number;
  /** Hands notifications over for delivery; see {@link AlertDeliver}. */
  deliver?: AlertDeliver;
  /** Longest wait for a channel's `send` (by the default delivery). @defaultValue '10s' */
  deliveryTimeout?: Duration;
  /**
   * Reads the modules' figures for `recommendations()`, sampled at each evaluation so advice that
   * needs history has it (the composition root gives one reading the instance's modules).
   */
  recommendationInputs?: RecommendationReader;
  /** Thresholds of the recommendations. */
  recommend?: RecommendOptions;
  /**
   * Past readings of the sources, so anomaly, trend and forecast rules start from them at
   * `start()` (and when added later) instead of warming up again. An instance with the metrics
   * history gives one reading it; `false` turns it off there.
   */
  history?: AlertHistoryReader | false;
  /**
   * Longest wait for the history at start; past it, the rules learn from live readings and one
   * warning is logged. @defaultValue '10s'
   */
  historyTimeout?: Duration;
  logger?: Logger;
  clock?: Clock;
}

/** @internal The options checked, durations in milliseconds. */
export interface ResolvedAlertsOptions {
  evaluationIntervalMs: number;
  sourceTimeoutMs: number;
  deliveryTimeoutMs: number;
  commandTimeoutMs: number;
  historyLimit: number;
  historyTimeoutMs: number;
  history: AlertHistoryReader | undefined;
  channels: AlertChannel[];
  policies: ResolvedPolicy[];
  inhibitions: CompiledInhibition[];
  store: StoreChoice<AlertStore>;
}

/**
 * @internal Checks `options`. A bad duration, route, policy matcher or inhibition is an
 * {@link AlertRuleError} whose `field` names the option (`evaluationInterval`, `route.groupWait`,
 * `policies[0].steps[1].after`, `inhibitions[0].equal`...); a channel problem (a duplicate name, a
 * step naming an unknown channel) an {@link AlertChannelError}.
 *
 * @example
 * ```ts
 * const resolved = resolveAlertsOptions({ evaluationInterval: '30s' });
 * resolved.evaluationIntervalMs; // 30_000
 * ```
 */
export function resolveAlertsOptions(options: AlertsOptions = {}): ResolvedAlertsOptions {
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new AlertRuleError(
      `alerts option ${field}=${describeValue(value)} is invalid: ${expected}`,
      {
        rule: 'options',
        field,
        value,
      },
    );
  };
  const duration = (field: string, value: unknown, fallback: number, positive: boolean): number => {
    if (value === undefined) return fallback;
    let ms = Number.NaN;
    try {
      ms = parseDuration(value, field);
    } catch {
      // reported below
    }
    if (!(ms >= 0) || (positive && ms === 0)) {
      fail(
        field,
        value,
        `expected a ${positive ? 'positive ' : ''}duration such as 30 (seconds), '500ms', '5m'`,
      );
    }
    return ms;
  };
  const route = options.route ?? {};
  const resolvedRoute = {
    groupBy: (() => {
      const groupBy = checkGroupBy(route.groupBy ?? ['alertname'], 'route.groupBy', 'options');
      return groupBy === 'all' ? ['...'] : groupBy;
    })(),
    groupWaitMs: duration('route.groupWait', route.groupWait, 30_000, false),
    groupIntervalMs: duration('route.groupInterval', route.groupInterval, 300_000, true),
    repeatIntervalMs: duration('route.repeatInterval', route.repeatInterval, 14_400_000, false),
  };
  const channels = options.channels ?? [];
  if (!Array.isArray(channels)) fail('channels', channels, 'expected an array of channels');
  const names = new Set<string>();
  for (const [i, channel] of channels.entries()) checkChannel(channel, names, `channels[${i}]`);
  if (options.defaultChannel !== undefined)
    checkChannel(options.defaultChannel, new Set(), 'defaultChannel');
  const historyLimit = options.historyLimit ?? 1_000;
  if (!Number.isInteger(historyLimit) || historyLimit < 1)
    fail('historyLimit', historyLimit, 'expected a positive integer');
  const commandTimeoutMs = options.commandTimeoutMs ?? 1_000;
  if (typeof commandTimeoutMs !== 'number' || !(commandTimeoutMs > 0)) {
    fail('commandTimeoutMs', commandTimeoutMs, 'expected a positive number of milliseconds');
  }
  const history = options.history;
  if (
    history !== undefined &&
    history !== false &&
    (history === null || typeof history !== 'object' || typeof history.read !== 'function')
  ) {
    fail('history', history, 'expected an AlertHistoryReader ({ read(request) }) or false');
  }
  if (options.deliver !== undefined && typeof options.deliver !== 'function') {
    fail('deliver', options.deliver, 'expected a function (channel, notification) => void');
  }
  return {
    evaluationIntervalMs: duration('evaluationInterval', options.evaluationInterval, 15_000, true),
    sourceTimeoutMs: duration('sourceTimeout', options.sourceTimeout, 10_000, true),
    deliveryTimeoutMs: duration('deliveryTimeout', options.deliveryTimeout, 10_000, true),
    commandTimeoutMs,
    historyLimit,
    historyTimeoutMs: duration('historyTimeout', options.historyTimeout, 10_000, true),
    history: history === false ? undefined : history,
    channels: [...channels],
    policies: resolvePolicies(options.policies ?? [], names, resolvedRoute),
    inhibitions: compileInhibitions(options.inhibitions ?? []),
    store: resolveStoreChoice(
      options,
      {
        name: 'AlertStore',
        methods: [
          'claim',
          'episode',
          'touchEpisodes',
          'endEpisode',
          'acknowledgements',
          'silences',
          'record',
          'history',
        ],
        defaultPrefix: 'enterprise:alerts',
      },
      (field, value, expected) => fail(field, value, `expected ${expected}`),
    ),
  };
}

/** @internal Checks a channel's shape and that its name is free; adds the name to `names`. */
export function checkChannel(channel: AlertChannel, names: Set<string>, field: string): void {
  if (channel === null || typeof channel !== 'object' || typeof channel.send !== 'function') {
    throw new AlertChannelError(
      `${field} is not a channel: expected { name, send(notification) }`,
      {
        channel: String((channel as { name?: unknown } | null)?.name ?? ''),
        field,
      },
    );
  }
  if (typeof channel.name !== 'string' || channel.name.length === 0) {
    throw new AlertChannelError(
      `${field}.name=${describeValue(channel.name)} is invalid: expected a non-empty string`,
      {
        channel: '',
        field: `${field}.name`,
      },
    );
  }
  if (names.has(channel.name)) {
    throw new AlertChannelError(`${field}: a channel named "${channel.name}" exists already`, {
      channel: channel.name,
      field: `${field}.name`,
    });
  }
  names.add(channel.name);
}
