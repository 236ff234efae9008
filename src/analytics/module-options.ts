// The `analytics` option of `createEnterprise()`: the event tracking's options, and the metrics
// history the instance records beside them.
import type { Duration } from '../core/duration.js';
import type { RedisClient } from '../redis/client.js';
import type { CapacityLimit } from './capacity/types.js';
import type { AnalyticsOptions } from './events/options.js';
import type { HistoryPgPool } from './history/postgres-store.js';
import type { HistoryRetentionOptions, HistoryStore } from './history/types.js';
import type { ReportDefinitionOptions, ReportSection } from './reports/types.js';

/**
 * The metrics history an instance records (`enterprise.history`): per-minute rollups of every
 * operation, and system, cache and task figures.
 *
 * @example
 * ```ts
 * createEnterprise({ analytics: { history: { store: 'redis', prefix: 'shop:history' } } });
 * ```
 */
export interface HistoryModuleOptions {
  /**
   * `'memory'` (this process), `'redis'` (shared by every instance using the same `prefix`; the
   * instance's Redis unless `redis` or `redisUrl` is given), `'postgres'` (needs `connectionString`
   * or `pool`) or a store of your own (never closed by the instance). @defaultValue 'memory'
   */
  store?: 'memory' | 'redis' | 'postgres' | HistoryStore;
  /** How long minutes and hours are kept. Default: the store's. */
  retention?: HistoryRetentionOptions;
  /** The most points one query may answer. @defaultValue 10000 */
  maxPoints?: number;
  /** Redis store: a client, never closed by the instance. */
  redis?: RedisClient;
  /** Redis store: a URL. Default: the instance's `REDIS_URL`. */
  redisUrl?: string;
  /** Redis store: the key prefix. Instances with the same one merge their history. @defaultValue 'enterprise:history' */
  prefix?: string;
  /** PostgreSQL store: where a pool of its own connects. */
  connectionString?: string;
  /** PostgreSQL store: a pool, never closed by the instance. */
  pool?: HistoryPgPool;
  /** PostgreSQL store: the table. @defaultValue 'enterprise_history' */
  table?: string;
  /** How often figures are sampled, a divisor of a minute. @defaultValue 10000 */
  sampleIntervalMs?: number;
  /** Closed minutes kept while the store is unavailable. @defaultValue 60 */
  maxPendingMinutes?: number;
}

/**
 * The cluster view an instance publishes to and reads from (`enterprise.cluster`): a heartbeat with
 * its live figures under the deployment's prefix, and a copy of its history's minutes, so every
 * summary endpoint can answer `?scope=cluster`. Needs Redis.
 *
 * @example
 * ```ts
 * createEnterprise({ redisUrl: process.env.REDIS_URL, analytics: { cluster: { prefix: 'shop:cluster' } } });
 * ```
 */
export interface ClusterModuleOptions {
  /** A client, never closed by the instance. */
  redis?: RedisClient;
  /** A URL. Default: the instance's `REDIS_URL`. */
  redisUrl?: string;
  /** The deployment's prefix: instances using the same one see each other. @defaultValue 'enterprise:cluster' */
  prefix?: string;
  /** This instance's id. @defaultValue a random id */
  instanceId?: string;
  /** @defaultValue 10000 */
  heartbeatIntervalMs?: number;
  /** An instance is alive this long after its last heartbeat. @defaultValue 3 × the interval */
  heartbeatTtlMs?: number;
  /** How long the deployment's history is kept. @defaultValue { minutes: '48h', hours: '7d' } */
  retention?: HistoryRetentionOptions;
  /** The most points one history query answers. @defaultValue 10000 */
  maxPoints?: number;
}

/**
 * The `analytics` option of `createEnterprise()`: {@link AnalyticsOptions} for event tracking, and
 * `history` for the metrics history (`false`: not built by `start()`).
 *
 * @example
 * ```ts
 * createEnterprise({
 *   analytics: { funnels: { checkout: { steps: ['view', 'cart', 'pay'], within: '1h' } }, history: { store: 'memory' } },
 * });
 * ```
 */
export interface EnterpriseAnalyticsOptions extends AnalyticsOptions {
  history?: HistoryModuleOptions | false;
  /** The cluster view (`enterprise.cluster`): built and started by `start()` when given. */
  cluster?: ClusterModuleOptions | false;
  /** The capacity planner (`enterprise.capacity`); `false`: not built by `start()`. */
  capacity?: CapacityModuleOptions | false;
}

/**
 * The capacity planner an instance builds (`enterprise.capacity`): what it watches and how far it
 * looks. By default it watches heap used (against V8's heap limit), RSS (against `memoryLimit`),
 * event-loop delay p99 (against `eventLoopDelayLimitMs`) and utilisation (against 0.9), and the
 * depth of every task queue (against `queueLimit`).
 *
 * @example
 * ```ts
 * createEnterprise({ analytics: { capacity: { memoryLimit: 2 * 1024 ** 3, queueLimit: 5_000, horizon: '14d' } } });
 * ```
 */
export interface CapacityModuleOptions {
  /** More resources to watch, beside the defaults. */
  limits?: readonly CapacityLimit[];
  /** Whether to watch the defaults. @defaultValue true */
  defaults?: boolean;
  /** RSS limit in bytes. @defaultValue the machine's total memory */
  memoryLimit?: number;
  /** Heap limit in bytes. @defaultValue V8's `heap_size_limit` */
  heapLimit?: number;
  /** Event-loop delay p99 limit in milliseconds. @defaultValue 200 */
  eventLoopDelayLimitMs?: number;
  /** Waiting tasks per queue. @defaultValue 10000 */
  queueLimit?: number;
  /** History the model is fitted on. @defaultValue '24h' */
  lookback?: Duration;
  /** How far ahead a crossing is looked for. @defaultValue '30d' */
  horizon?: Duration;
  /** Of the prediction interval. @defaultValue 0.95 */
  confidence?: number;
}

/**
 * The `reports` option of `createEnterprise()`: reports defined at once, more sections, and how
 * long a section may take. Scheduled reports run as tasks of the task module; channel targets go
 * through the alerts module's channels.
 *
 * @example
 * ```ts
 * createEnterprise({
 *   reports: {
 *     definitions: {
 *       daily: { sections: ['performance', 'slowest', 'capacity'], period: 'day', schedule: '0 7 * * *', deliver: [{ channel: 'ops-mail' }] },
 *     },
 *   },
 * });
 * ```
 */
export interface ReportsModuleOptions {
  definitions?: Record<string, ReportDefinitionOptions>;
  sections?: readonly ReportSection[];
  /** @defaultValue '30s' */
  sectionTimeout?: Duration;
  /** The queue the scheduled report tasks go to. @defaultValue the task module's default queue */
  queue?: string;
}
