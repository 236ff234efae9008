import { randomUUID } from 'node:crypto';
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
import { type CohortActivity, type FoldedBatch, foldBatch } from './fold.js';
import { AnalyticsKeys, recordPlan } from './redis-plan.js';
import { FUNNEL_COUNT, RECORD } from './redis-scripts.js';
import type {
  AnalyticsBatch,
  AnalyticsStore,
  CohortCounts,
  DayRange,
  FunnelDefinition,
  HourCounts,
} from './types.js';
import { WrittenMemo } from './written-memo.js';

/**
 * Options of {@link RedisAnalyticsStore}.
 *
 * @example
 * ```ts
 * const options: RedisAnalyticsStoreOptions = { url: 'redis://redis:6379', prefix: 'shop:analytics' };
 * ```
 */
export interface RedisAnalyticsStoreOptions {
  /** An ioredis client or Cluster; never closed by the store. Give either `client` or `url`. */
  client?: RedisClient;
  /** A Redis URL: the store opens a fail-fast connection and quits it on `close()`. */
  url?: string;
  /** Every key is `{prefix}:…`: one hash tag, so the store works on Redis Cluster. @defaultValue 'enterprise:analytics' */
  prefix?: string;
  /** Longest wait for Redis before a call rejects. @defaultValue 2000 */
  commandTimeoutMs?: number;
  /** Connection errors of the client the store created. */
  onError?: (error: Error) => void;
}

/**
 * The {@link AnalyticsStore} of a deployment: every instance folds its batches into the same
 * aggregates, one Lua script per batch (atomic, and idempotent through a marker per batch id).
 * Keys, all under one hash tag `{prefix}` so that the unions of days and weeks run on a Cluster:
 * `:c:<hour>` hashes of event counts, `:d:<day>` HyperLogLogs (`PFADD`, and `PFCOUNT` over
 * several days), `:u:<pseudonym>` each user's cohort, `:r:<week>` hashes of cohort counts,
 * `:fs:<funnel>:<pseudonym>` funnel progress, `:fr:<funnel>:<day>:<step>` sets of the users who
 * reached a step. Every key expires: counts, sketches and funnel sets after the retention, cohort
 * keys when their cohort leaves the table, funnel progress after the funnel's time limit. Every
 * call waits at most `commandTimeoutMs`.
 *
 * @example
 * ```ts
 * const store = new RedisAnalyticsStore({ url: process.env.REDIS_URL, prefix: 'shop:analytics' });
 * const analytics = new Analytics({ store, hashKey: process.env.ANALYTICS_HASH_KEY });
 * ```
 */
export class RedisAnalyticsStore implements AnalyticsStore {
  readonly shared = true;
  readonly prefix: string;
  readonly #keys: AnalyticsKeys;
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  readonly #memo = new WrittenMemo();
  #closing: Promise<void> | undefined;

  constructor(options: RedisAnalyticsStoreOptions) {
    this.prefix = checkPrefix(options.prefix ?? 'enterprise:analytics');
    this.#timeoutMs = checkTimeout(options.commandTimeoutMs ?? 2_000, 'commandTimeoutMs');
    const { client, owned } = resolveClient(options, this.#timeoutMs, 'RedisAnalyticsStore');
    this.#client = client;
    this.#owned = owned;
    this.#keys = new AnalyticsKeys(this.prefix);
  }

  record(batch: AnalyticsBatch): Promise<void> {
    const folded = foldBatch(batch);
    const written = this.#leaveOutWritten(folded);
    const plan = recordPlan(this.#keys, batch, folded);
    if (plan === undefined) return Promise.resolve();
    return this.#run('record', async (client) => {
      await runScript(client, RECORD, plan.keys, [plan.spec]);
      for (const [key, flags] of written) this.#memo.add(key, flags);
    });
  }

  /**
   * Removes from `folded` the day users and cohort weeks this process wrote before (idempotent
   * writes, see WrittenMemo); returns what the batch writes, to remember once it is written.
   */
  #leaveOutWritten(folded: FoldedBatch): [string, number][] {
    const written: [string, number][] = [];
    for (const [day, users] of folded.users) {
      for (const user of users) {
        const key = `d${day}:${user}`;
        if (this.#memo.has(key)) users.delete(user);
        else written.push([key, 1]);
      }
      if (users.size === 0) folded.users.delete(day);
    }
    const cohorts: CohortActivity[] = [];
    for (const activity of folded.cohorts) {
      const weeks: number[] = [];
      const flags: number[] = [];
      activity.weeks.forEach((week, i) => {
        const key = `w${week}:${activity.user}`;
        if (this.#memo.has(key, activity.flags[i]!)) return;
        weeks.push(week);
        flags.push(activity.flags[i]!);
        written.push([key, activity.flags[i]!]);
      });
      if (weeks.length > 0) cohorts.push({ user: activity.user, weeks, flags });
    }
    folded.cohorts.splice(0, folded.cohorts.length, ...cohorts);
    return written;
  }

  eventCounts(fromHour: number, toHour: number): Promise<readonly HourCounts[]> {
    if (toHour < fromHour) return Promise.resolve([]);
    return this.#run('eventCounts', async (client) => {
      const pipeline = client.pipeline();
      for (let hour = fromHour; hour <= toHour; hour++) pipeline.hgetall(this.#keys.hour(hour));
      const replies = (await pipeline.exec()) ?? [];
      const rows: HourCounts[] = [];
      replies.forEach(([error, value], i) => {
        if (error) throw error;
        const entries = Object.entries(value as Record<string, string>);
        if (entries.length === 0) return;
        rows.push({ hour: fromHour + i, counts: new Map(entries.map(([e, n]) => [e, Number(n)])) });
      });
      return rows;
    });
  }

  activeUsers(ranges: readonly DayRange[]): Promise<readonly number[]> {
    if (ranges.length === 0) return Promise.resolve([]);
    return this.#run('activeUsers', async (client) => {
      const pipeline = client.pipeline();
      for (const { from, to } of ranges) {
        const keys: string[] = [];
        for (let day = from; day <= to; day++) keys.push(this.#keys.day(day));
        // An empty range still sends a command, so the replies line up with the ranges.
        pipeline.pfcount(keys.length > 0 ? keys : [this.#keys.day(-1)]);
      }
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([error, value], i) => {
        if (error) throw error;
        return ranges[i]!.to < ranges[i]!.from ? 0 : Number(value);
      });
    });
  }

  funnel(funnel: FunnelDefinition, fromDay: number, toDay: number): Promise<readonly number[]> {
    const steps = funnel.steps.length;
    if (toDay < fromDay) return Promise.resolve(funnel.steps.map(() => 0));
    return this.#run('funnel', async (client) => {
      const days = toDay - fromDay + 1;
      if (days === 1) {
        const pipeline = client.pipeline();
        for (let step = 1; step <= steps; step++) {
          pipeline.scard(this.#keys.funnelDay(funnel.name, fromDay, step));
        }
        const replies = (await pipeline.exec()) ?? [];
        return replies.map(([error, value]) => {
          if (error) throw error;
          return Number(value);
        });
      }
      const keys = [this.#keys.scratch(randomUUID())];
      for (let step = 1; step <= steps; step++) {
        for (let day = fromDay; day <= toDay; day++) {
          keys.push(this.#keys.funnelDay(funnel.name, day, step));
        }
      }
      const reply = (await runScript(client, FUNNEL_COUNT, keys, [steps, days])) as number[];
      return reply.map(Number);
    });
  }

  cohorts(fromWeek: number, toWeek: number, weeks: number): Promise<readonly CohortCounts[]> {
    if (toWeek < fromWeek) return Promise.resolve([]);
    return this.#run('cohorts', async (client) => {
      const pipeline = client.pipeline();
      for (let week = fromWeek; week <= toWeek; week++) pipeline.hgetall(this.#keys.cohort(week));
      const replies = (await pipeline.exec()) ?? [];
      const rows: CohortCounts[] = [];
      replies.forEach(([error, value], i) => {
        if (error) throw error;
        const counts = value as Record<string, string>;
        if (counts['0'] === undefined) return;
        const returned = Array.from({ length: weeks }, (_, k) => Number(counts[String(k)] ?? 0));
        rows.push({ week: fromWeek + i, returned });
      });
      return rows;
    });
  }

  /** Quits the client the store created (a given client stays open). Idempotent. */
  async close(): Promise<void> {
    this.#closing ??= this.#owned ? quitClient(this.#client) : Promise.resolve();
    await this.#closing;
  }

  /** Runs `body` once the client is ready, the whole bounded by the command timeout. */
  #run<T>(operation: string, body: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) {
      return Promise.reject(new Error(`analytics store: ${operation} after close()`));
    }
    const client = this.#client;
    const work =
      client.status === 'ready'
        ? body(client)
        : whenReady(client, this.#timeoutMs).then(() => body(client));
    return rejectAfter(
      work,
      this.#timeoutMs,
      `analytics store: no answer from Redis to ${operation} within ${this.#timeoutMs} ms`,
    );
  }
}
