import { EnterpriseError } from '../../core/errors.js';
import { rejectAfter } from '../../core/timeout.js';
import {
  checkTimeout,
  quitClient,
  type RedisClient,
  resolveClient,
  whenReady,
} from '../../redis/client.js';
import { checkPrefix } from '../../redis/keys.js';
import { runScript } from '../../redis/scripts.js';
import { HistoryStoreError } from './errors.js';
import { checkKnown, labelsMatch, planQuery, type QueryPlan } from './query-plan.js';
import { MetricSteps, OperationSteps } from './query-steps.js';
import {
  bucketsOf,
  decodeMetrics,
  decodeOperations,
  indexMember,
  metricTriples,
  NameKeys,
  operationTriples,
  type SeriesKind,
  WRITE_SERIES,
  writeArguments,
} from './redis-layout.js';
import { checkRollup } from './rollup-checks.js';
import { canonicalLabels, labelSetId, parseLabels } from './series-key.js';
import {
  DAY_MS,
  type HistoryStoreOptions,
  HOUR_MS,
  MINUTE_MS,
  type StoreSettings,
  storeSettings,
} from './store-settings.js';
import type {
  HistoryQuery,
  HistorySeries,
  HistoryStore,
  MetricQuery,
  MetricSeries,
  MinuteRollup,
  SeriesInfo,
} from './types.js';

/**
 * Options of {@link RedisHistoryStore}.
 *
 * @example
 * ```ts
 * const options: RedisHistoryStoreOptions = { url: process.env.REDIS_URL, prefix: 'shop:history' };
 * ```
 */
export interface RedisHistoryStoreOptions extends HistoryStoreOptions {
  /** An ioredis client or Cluster; never closed by the store. Give either `client` or `url`. */
  client?: RedisClient;
  /** A Redis URL: the store opens a fail-fast connection and quits it on `close()`. */
  url?: string;
  /** Every key starts with it. @defaultValue 'enterprise:history' */
  prefix?: string;
  /** Longest wait for Redis before a call rejects. @defaultValue 2000 */
  commandTimeoutMs?: number;
  /** Connection errors of the client the store created. */
  onError?: (error: Error) => void;
}

/**
 * The {@link HistoryStore} shared by the instances of a deployment. Each rollup adds to a hash of
 * its series' hour (its minutes) and one of its day (its hours) with HINCRBY, in one script per
 * series that also marks the rollup's id, so a retried write counts once and the minutes of every
 * instance merge on the server. Hashes expire by themselves (`PEXPIREAT`) once past the retention;
 * the keys of one series name share a hash tag, so the store works on Redis Cluster. Every call
 * waits at most `commandTimeoutMs`.
 *
 * @example
 * ```ts
 * const store = new RedisHistoryStore({ url: process.env.REDIS_URL, retention: { minutes: '48h', hours: '90d' } });
 * const recorder = new HistoryRecorder({ store, operations: enterprise.performance });
 * ```
 */
export class RedisHistoryStore implements HistoryStore {
  readonly name = 'redis';
  readonly prefix: string;
  readonly retention: { readonly minutesMs: number; readonly hoursMs: number };
  readonly #settings: StoreSettings;
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  readonly #index: string;
  #closing: Promise<void> | undefined;

  constructor(options: RedisHistoryStoreOptions) {
    this.#settings = storeSettings(options);
    this.retention = { minutesMs: this.#settings.minutesMs, hoursMs: this.#settings.hoursMs };
    this.prefix = checkPrefix(options.prefix ?? 'enterprise:history');
    this.#timeoutMs = checkTimeout(options.commandTimeoutMs ?? 2_000, 'commandTimeoutMs');
    const { client, owned } = resolveClient(options, this.#timeoutMs, 'RedisHistoryStore');
    this.#client = client;
    this.#owned = owned;
    this.#index = `${this.prefix}:index`;
  }

  async write(rollup: MinuteRollup): Promise<void> {
    checkRollup(rollup);
    const now = this.#settings.clock.epochNow();
    const { minuteFloor, hourFloor } = this.#floors(now);
    const keepMinute = rollup.at >= minuteFloor;
    if (!keepMinute && Math.floor(rollup.at / HOUR_MS) * HOUR_MS < hourFloor) return;
    const expiry = { ...this.retention, now, keepMinute };
    return this.#run('write', async (client) => {
      const writes: Promise<unknown>[] = [];
      const names = new Map<string, true>();
      const series = (
        kind: SeriesKind,
        name: string,
        labels: Record<string, string>,
        triples: string[],
      ) => {
        const keys = new NameKeys(this.prefix, kind, name);
        const call = writeArguments(keys, canonicalLabels(labels), rollup, expiry);
        writes.push(runScript(client, WRITE_SERIES, call.keys, [...call.args, ...triples]));
        names.set(indexMember(kind, name), true);
      };
      for (const op of rollup.operations) series('o', op.name, op.labels, operationTriples(op));
      for (const metric of rollup.metrics) {
        series('m', metric.name, metric.labels, metricTriples(metric));
      }
      await Promise.all(writes);
      if (names.size === 0) return;
      // The index names what the series keys hold; written last, so a name is never listed
      // before its data exists. It lives on a key of its own: no script spans two hash slots.
      const members = [...names.keys()].flatMap((member) => [String(rollup.at), member]);
      await client.zadd(this.#index, ...(members as [string, string]));
      await client.pexpireat(this.#index, now + this.retention.hoursMs + DAY_MS);
    });
  }

  async query(query: HistoryQuery): Promise<HistorySeries> {
    const plan = planQuery('operation', query?.operation, query, this.#settings);
    return this.#run('query', async (client) => {
      const steps = new OperationSteps(plan);
      const matched = await this.#read(client, 'o', plan, (base, hash) => {
        for (const [offset, cell] of decodeOperations(hash)) {
          const at = base + offset * plan.unitMs;
          steps.add(at, cell.count, cell.errors, cell.slow, cell.sumMs, bucketsOf(cell));
        }
      });
      return steps.series(matched);
    });
  }

  async queryMetric(query: MetricQuery): Promise<MetricSeries> {
    const plan = planQuery('metric', query?.metric, query, this.#settings);
    return this.#run('queryMetric', async (client) => {
      const steps = new MetricSteps(plan);
      const matched = await this.#read(client, 'm', plan, (base, hash) => {
        for (const [offset, cell] of decodeMetrics(hash)) {
          steps.add(base + offset * plan.unitMs, cell.samples, cell.sum, cell.min, cell.max);
        }
      });
      return steps.series(matched);
    });
  }

  async series(): Promise<SeriesInfo[]> {
    return this.#run('series', async (client) => {
      const { hourFloor } = this.#floors(this.#settings.clock.epochNow());
      const members = await client.zrangebyscore(this.#index, hourFloor, '+inf');
      const list: SeriesInfo[] = [];
      await Promise.all(
        members.map(async (member) => {
          const kind = member.slice(0, 1) as SeriesKind;
          const name = member.slice(2);
          const keys = new NameKeys(this.prefix, kind, name);
          for (const json of await client.zrangebyscore(keys.sets, hourFloor, '+inf')) {
            const labels = parseLabels(json);
            if (labels === undefined) continue;
            list.push({ kind: kind === 'o' ? 'operation' : 'metric', name, labels });
          }
        }),
      );
      return list;
    });
  }

  /** Forgets names and label sets past the hours kept; their hashes expire by themselves. */
  async prune(): Promise<void> {
    return this.#run('prune', async (client) => {
      const { hourFloor } = this.#floors(this.#settings.clock.epochNow());
      const members = await client.zrange(this.#index, 0, -1);
      for (const member of members) {
        const keys = new NameKeys(this.prefix, member.slice(0, 1) as SeriesKind, member.slice(2));
        await client.zremrangebyscore(keys.sets, '-inf', `(${hourFloor}`);
      }
      await client.zremrangebyscore(this.#index, '-inf', `(${hourFloor}`);
    });
  }

  /** Quits the client the store created (a given client stays open). Idempotent. */
  async close(): Promise<void> {
    this.#closing ??= this.#owned ? quitClient(this.#client) : Promise.resolve();
    await this.#closing;
  }

  /**
   * Reads the hashes of every label set of the plan's name that matches its labels, over its
   * range, and hands each to `visit` with the time its offsets count from. One pipeline: the keys
   * of one name share a hash slot.
   */
  async #read(
    client: RedisClient,
    kind: SeriesKind,
    plan: QueryPlan,
    visit: (base: number, hash: Record<string, string>) => void,
  ): Promise<number> {
    const keys = new NameKeys(this.prefix, kind, plan.name);
    const { hourFloor } = this.#floors(this.#settings.clock.epochNow());
    const [known, sets] = await Promise.all([
      client.zscore(this.#index, indexMember(kind, plan.name)),
      client.zrangebyscore(keys.sets, hourFloor, '+inf'),
    ]);
    const ids: string[] = [];
    for (const json of sets) {
      const labels = parseLabels(json);
      if (labels !== undefined && labelsMatch(labels, plan.labels)) ids.push(labelSetId(json));
    }
    checkKnown(plan, known !== null && sets.length > 0, ids.length);
    const span = plan.resolution === 'hour' ? DAY_MS : HOUR_MS;
    const first = Math.floor(Math.max(plan.from, plan.floor) / span) * span;
    const bases: number[] = [];
    for (let base = first; base < plan.to; base += span) bases.push(base);
    if (bases.length === 0) return ids.length;
    const pipeline = client.pipeline();
    for (const id of ids) {
      for (const base of bases) {
        pipeline.hgetall(
          plan.resolution === 'hour' ? keys.hours(id, base) : keys.minutes(id, base),
        );
      }
    }
    const replies = (await pipeline.exec()) ?? [];
    let i = 0;
    for (const _id of ids) {
      for (const base of bases) {
        const [error, hash] = replies[i++] ?? [new Error('no reply'), undefined];
        if (error) throw error;
        visit(base, hash as Record<string, string>);
      }
    }
    return ids.length;
  }

  #floors(now: number): { minuteFloor: number; hourFloor: number } {
    return {
      minuteFloor: Math.floor((now - this.retention.minutesMs) / MINUTE_MS) * MINUTE_MS,
      hourFloor: Math.floor((now - this.retention.hoursMs) / HOUR_MS) * HOUR_MS,
    };
  }

  /** Waits for the connection and runs `body`, the whole bounded by the command timeout. */
  async #run<T>(operation: string, body: (client: RedisClient) => Promise<T>): Promise<T> {
    try {
      if (this.#closing !== undefined) throw new Error('the store is closed');
      const started = Date.now();
      await whenReady(this.#client, this.#timeoutMs);
      const left = Math.max(1, this.#timeoutMs - (Date.now() - started));
      return await rejectAfter(
        body(this.#client),
        left,
        `no answer from Redis within ${this.#timeoutMs} ms`,
      );
    } catch (error) {
      // A refused query (unknown operation...) is the caller's to handle as it is.
      if (error instanceof EnterpriseError) throw error;
      throw new HistoryStoreError(this.name, operation, error);
    }
  }
}
