import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Clock, systemClock } from '../../core/clock.js';
import { describeValue, EnterpriseError, InvalidArgumentError } from '../../core/errors.js';
import { createDefaultLogger, type Logger } from '../../core/logger.js';
import { rejectAfter } from '../../core/timeout.js';
import type { OperationWindows } from '../../performance/types.js';
import {
  checkTimeout,
  quitClient,
  type RedisClient,
  resolveClient,
  whenReady,
} from '../../redis/client.js';
import { checkPrefix, hashTag, redisSegment } from '../../redis/keys.js';
import { RedisHistoryStore } from '../history/redis-store.js';
import type {
  HistoryQuery,
  HistoryRetentionOptions,
  MetricQuery,
  MinuteRollup,
} from '../history/types.js';
import { ClusterUnavailableError } from './errors.js';
import { instanceSnapshot } from './instance-snapshot.js';
import { mergeCache, mergeOperations, mergeTasks } from './merge.js';
import type {
  CacheCounters,
  ClusterCacheSummary,
  ClusterHeader,
  ClusterHistorySeries,
  ClusterInstance,
  ClusterMetricSeries,
  ClusterPerformanceSummary,
  ClusterTaskFigures,
  InstanceSnapshot,
  TaskCounters,
} from './types.js';

/**
 * The label a rollup copied to the deployment's history carries: the instance that wrote it.
 *
 * @example
 * ```ts
 * await cluster.history.query({ operation: 'GET /users', labels: { [INSTANCE_LABEL]: 'a1b2c3d4' }, from, to, step: '1m' });
 * ```
 */
export const INSTANCE_LABEL = 'instance';
/** The most instances a history answer breaks down (the most recently seen). */
const MAX_BREAKDOWN = 50;

/**
 * Options of {@link ClusterView}.
 *
 * @example
 * ```ts
 * const options: ClusterViewOptions = { url: process.env.REDIS_URL, prefix: 'shop:cluster', operations: enterprise.performance };
 * ```
 */
export interface ClusterViewOptions {
  /** An ioredis client or Cluster, never closed by the view. Give either `client` or `url`. */
  client?: RedisClient;
  /** A Redis URL: the view opens a fail-fast connection and quits it on `stop()`. */
  url?: string;
  /** The deployment's prefix: every instance using it is part of one view. @defaultValue 'enterprise:cluster' */
  prefix?: string;
  /** This instance's id. @defaultValue a random id */
  instanceId?: string;
  /** How often the heartbeat (and the live figures) is published. @defaultValue 10000 */
  heartbeatIntervalMs?: number;
  /** How long a heartbeat keeps an instance alive; more than the interval. @defaultValue 3 × the interval */
  heartbeatTtlMs?: number;
  /** Longest wait for Redis. @defaultValue 2000 */
  commandTimeoutMs?: number;
  /** The performance monitor (or anything with `operationWindows()`). */
  operations?: { operationWindows(): readonly OperationWindows[] };
  /** This instance's cache counters, `undefined` without a cache. */
  cache?: () => CacheCounters | undefined;
  /** This instance's task counters, `undefined` without tasks. */
  tasks?: () => TaskCounters | undefined | Promise<TaskCounters | undefined>;
  /** How long the deployment's history (every instance's minutes) is kept. @defaultValue { minutes: '48h', hours: '7d' } */
  retention?: HistoryRetentionOptions;
  /** The most points one history query answers. @defaultValue 10000 */
  maxPoints?: number;
  /** Connection errors of the client the view created. */
  onError?: (error: Error) => void;
  clock?: Clock;
  logger?: Logger;
}

/**
 * The deployment seen from any of its instances. Each instance publishes a heartbeat to Redis
 * under the deployment's prefix (its id, host, pid, start and last heartbeat, with its
 * operations' counts and histogram buckets over every window and its cache and task counters),
 * expiring after `heartbeatTtlMs`; the instances alive are those whose heartbeat has not expired.
 * Summaries merge what they published: counts and buckets add up, percentiles are read from the
 * merged buckets. Rollups written through {@link ClusterView.writeRollup} go to the deployment's
 * history, labelled with the instance, so a history query answers for all instances and for each.
 *
 * @example
 * ```ts
 * const cluster = new ClusterView({ url: process.env.REDIS_URL, operations: enterprise.performance });
 * cluster.start();
 * const summary = await cluster.performance();
 * console.log(summary.instances.length, summary.operations[0]?.windows['5m'].p99);
 * await cluster.stop();
 * ```
 */
export class ClusterView {
  /** This instance's id. */
  readonly instanceId: string;
  readonly prefix: string;
  readonly heartbeatTtlMs: number;
  /** The deployment's history: every instance's minutes, each label set with its `instance`. */
  readonly history: RedisHistoryStore;
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  readonly #intervalMs: number;
  readonly #options: ClusterViewOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #startedAt: string;
  readonly #keys: { instances: string; live: (id: string) => string };
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  /** The beat queued behind the one in flight. */
  #next: Promise<void> | undefined;
  #down = false;
  #stopping: Promise<void> | undefined;

  constructor(options: ClusterViewOptions) {
    this.#options = options ?? {};
    this.prefix = checkPrefix(options?.prefix ?? 'enterprise:cluster');
    this.#timeoutMs = checkTimeout(options?.commandTimeoutMs ?? 2_000, 'commandTimeoutMs');
    this.#intervalMs = positive(options?.heartbeatIntervalMs ?? 10_000, 'heartbeatIntervalMs');
    this.heartbeatTtlMs = positive(
      options?.heartbeatTtlMs ?? this.#intervalMs * 3,
      'heartbeatTtlMs',
    );
    if (this.heartbeatTtlMs <= this.#intervalMs) {
      throw new InvalidArgumentError(
        `heartbeatTtlMs=${this.heartbeatTtlMs} is invalid: expected more than heartbeatIntervalMs (${this.#intervalMs})`,
        {
          argument: 'heartbeatTtlMs',
          value: this.heartbeatTtlMs,
          expected: 'more than heartbeatIntervalMs',
        },
      );
    }
    const id = options?.instanceId ?? randomUUID().slice(0, 8);
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
      throw new InvalidArgumentError(`instanceId=${describeValue(id)} is invalid`, {
        argument: 'instanceId',
        value: id,
        expected: 'a non-empty string of at most 200 characters',
      });
    }
    this.instanceId = id;
    const { client, owned } = resolveClient(options, this.#timeoutMs, 'ClusterView');
    this.#client = client;
    this.#owned = owned;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? createDefaultLogger('info')).child({ module: 'cluster' });
    this.#startedAt = new Date(this.#clock.epochNow()).toISOString();
    // One hash tag for the instance list and the heartbeats (the prefix, so deployments sharing a
    // Cluster spread over its slots): one slot, so a heartbeat is one MULTI and the alive ones one MGET.
    const base = `${this.prefix}:${hashTag(this.prefix)}`;
    this.#keys = {
      instances: `${base}:instances`,
      live: (instance) => `${base}:live:${redisSegment(instance)}`,
    };
    this.history = new RedisHistoryStore({
      client,
      prefix: `${this.prefix}:history`,
      commandTimeoutMs: this.#timeoutMs,
      retention: options.retention ?? { minutes: '48h', hours: '7d' },
      ...(options.maxPoints === undefined ? {} : { maxPoints: options.maxPoints }),
      clock: this.#clock,
    });
  }

  /** Whether the heartbeat timer runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Publishes a heartbeat now and every `heartbeatIntervalMs` on an unref'd timer. Idempotent. */
  start(): void {
    if (this.#timer !== undefined || this.#stopping !== undefined) return;
    this.#timer = setInterval(() => void this.heartbeat(), this.#intervalMs);
    this.#timer.unref();
    void this.heartbeat();
  }

  /**
   * Publishes this instance's heartbeat and live figures once. Never rejects: a failure is logged
   * (once while Redis stays away) and the next heartbeat tries again.
   */
  heartbeat(): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping.then(() => undefined);
    // A beat in flight read the figures before this call: the caller's need the next one, which
    // every caller meanwhile shares (a late write of the older figures never lands last).
    if (this.#beating !== undefined) {
      this.#next ??= this.#beating.then(() => {
        this.#next = undefined;
        // Stopped meanwhile: publishing now would bring a withdrawn instance back.
        return this.#stopping === undefined ? this.heartbeat() : undefined;
      });
      return this.#next;
    }
    this.#beating = this.#beat().finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }

  /** The instances whose heartbeat has not expired, this one first. */
  async instances(): Promise<ClusterInstance[]> {
    return (await this.snapshots()).map((s) => s.instance);
  }

  /**
   * What every instance alive published with its last heartbeat; this instance's own figures are
   * read now rather than from Redis.
   */
  async snapshots(): Promise<InstanceSnapshot[]> {
    const [own, others] = await Promise.all([
      this.#snapshot(),
      this.#run('read instances', async (client) => {
        // Scores are when each heartbeat expires (each instance has its own TTL).
        const now = this.#clock.epochNow();
        const ids = (await client.zrangebyscore(this.#keys.instances, now, '+inf')).filter(
          (id) => id !== this.instanceId,
        );
        if (ids.length === 0) return [];
        const values = await client.mget(...ids.map(this.#keys.live));
        const list: InstanceSnapshot[] = [];
        for (const value of values) {
          if (value === null) continue;
          try {
            list.push(JSON.parse(value) as InstanceSnapshot);
          } catch {
            // A value cut short is an instance that will publish again within the interval.
          }
        }
        return list.sort((a, b) => a.instance.id.localeCompare(b.instance.id));
      }),
    ]);
    return [own, ...others];
  }

  /** Every operation over the deployment: merged windows, and each instance's. */
  async performance(): Promise<ClusterPerformanceSummary> {
    const snapshots = await this.snapshots();
    return { ...header(snapshots), operations: mergeOperations(snapshots) };
  }

  /** The cache counters of every instance, summed, and each one's. */
  async cache(): Promise<ClusterCacheSummary> {
    const snapshots = await this.snapshots();
    return { ...header(snapshots), ...mergeCache(snapshots) };
  }

  /** Task throughput and totals of every instance, summed, and each one's. */
  async tasks(): Promise<ClusterHeader & ClusterTaskFigures> {
    const snapshots = await this.snapshots();
    return { ...header(snapshots), ...mergeTasks(snapshots) };
  }

  /**
   * Adds this instance's rollup to the deployment's history, each series labelled with
   * `instance`. Rejects when Redis fails (a recorder retries; the rollup id makes it count once).
   */
  writeRollup(rollup: MinuteRollup): Promise<void> {
    const label = <T extends { labels: Readonly<Record<string, string>> }>(series: T): T => ({
      ...series,
      labels: { ...series.labels, [INSTANCE_LABEL]: this.instanceId },
    });
    return this.history.write({
      ...rollup,
      operations: rollup.operations.map(label),
      metrics: rollup.metrics.map(label),
    });
  }

  /** An operation's history over the deployment (buckets of every instance merged), and each instance's. */
  async query(query: HistoryQuery): Promise<ClusterHistorySeries> {
    const merged = await this.history.query(query);
    const byInstance = await this.#breakdown(merged.from, (instance) =>
      this.history.query({ ...query, labels: { ...query.labels, [INSTANCE_LABEL]: instance } }),
    );
    return { ...merged, scope: 'cluster', byInstance };
  }

  /** A figure's history over the deployment, and each instance's. */
  async queryMetric(query: MetricQuery): Promise<ClusterMetricSeries> {
    const merged = await this.history.queryMetric(query);
    const byInstance = await this.#breakdown(merged.from, (instance) =>
      this.history.queryMetric({
        ...query,
        labels: { ...query.labels, [INSTANCE_LABEL]: instance },
      }),
    );
    return { ...merged, scope: 'cluster', byInstance };
  }

  /**
   * Stops the heartbeat and withdraws this instance from the alive list (its history stays), then
   * quits the client the view created. Idempotent; never rejects.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#timer !== undefined) clearInterval(this.#timer);
      this.#timer = undefined;
      await this.#beating;
      await this.#next;
      await this.#run('leave', (client) => client.del(this.#keys.live(this.instanceId))).catch(
        () => undefined,
      );
      if (this.#owned) await quitClient(this.#client).catch(() => undefined);
    })();
    return this.#stopping;
  }

  async #beat(): Promise<void> {
    try {
      const snapshot = await this.#snapshot();
      const now = this.#clock.epochNow();
      await this.#run('heartbeat', async (client) => {
        const replies = await client
          .multi()
          .set(
            this.#keys.live(this.instanceId),
            JSON.stringify(snapshot),
            'PX',
            this.heartbeatTtlMs,
          )
          .zadd(this.#keys.instances, now + this.heartbeatTtlMs, this.instanceId)
          // Instances are listed as long as the history keeps their minutes (for its breakdown).
          .zremrangebyscore(
            this.#keys.instances,
            '-inf',
            `(${now - this.history.retention.hoursMs}`,
          )
          .pexpire(this.#keys.instances, this.history.retention.hoursMs)
          .exec();
        const failed = replies?.find(([error]) => error !== null)?.[0];
        if (failed) throw failed;
      });
      if (this.#down) this.#log.info({}, 'cluster heartbeat published again');
      this.#down = false;
    } catch (error) {
      if (!this.#down) this.#log.warn({ err: error }, 'cluster heartbeat failed; retrying');
      this.#down = true;
    }
  }

  /** This instance's heartbeat as published: its identity and its figures now. */
  #snapshot(): Promise<InstanceSnapshot> {
    return instanceSnapshot(
      {
        id: this.instanceId,
        host: hostname(),
        pid: process.pid,
        startedAt: this.#startedAt,
        lastSeenAt: new Date(this.#clock.epochNow()).toISOString(),
      },
      this.#options,
      this.#timeoutMs,
      this.#log,
    );
  }

  /** Each instance seen since `from` (at most {@link MAX_BREAKDOWN}) with its own series. */
  async #breakdown<P>(
    from: number,
    read: (instance: string) => Promise<{ points: P[] }>,
  ): Promise<{ instance: string; points: P[] }[]> {
    const ids = await this.#run('read instances', (client) =>
      client.zrevrangebyscore(this.#keys.instances, '+inf', from, 'LIMIT', 0, MAX_BREAKDOWN),
    );
    const parts = await Promise.all(
      ids.map(async (instance) => {
        try {
          return { instance, points: (await read(instance)).points };
        } catch (error) {
          // An instance with no series of this name in the range has nothing to break down.
          if (error instanceof EnterpriseError && error.code === 'E_HISTORY_QUERY')
            return undefined;
          throw error;
        }
      }),
    );
    return parts
      .filter((part) => part !== undefined)
      .sort((a, b) => a.instance.localeCompare(b.instance));
  }

  async #run<T>(operation: string, body: (client: RedisClient) => Promise<T>): Promise<T> {
    try {
      const started = Date.now();
      await whenReady(this.#client, this.#timeoutMs);
      const left = Math.max(1, this.#timeoutMs - (Date.now() - started));
      return await rejectAfter(
        body(this.#client),
        left,
        `no answer from Redis within ${this.#timeoutMs} ms`,
      );
    } catch (error) {
      throw new ClusterUnavailableError(operation, error);
    }
  }
}

function header(snapshots: readonly InstanceSnapshot[]): ClusterHeader {
  return {
    scope: 'cluster',
    generatedAt: new Date().toISOString(),
    instances: snapshots.map((s) => s.instance),
  };
}

function positive(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      `${argument}=${describeValue(value)} is invalid: expected a positive number of milliseconds`,
      { argument, value, expected: 'a positive number of milliseconds' },
    );
  }
  return value;
}
