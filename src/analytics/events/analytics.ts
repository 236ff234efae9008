import type { Clock } from '../../core/clock.js';
import { Emitter } from '../../core/events.js';
import { createDefaultLogger, type Logger } from '../../core/logger.js';
import { rejectAfter } from '../../core/timeout.js';
import { HyperLogLog } from './hyperloglog.js';
import { MemoryAnalyticsStore } from './memory-store.js';
import {
  type AnalyticsOptions,
  isName,
  type ResolvedAnalyticsOptions,
  resolveAnalyticsOptions,
} from './options.js';
import { EventPipeline } from './pipeline.js';
import { Pseudonymiser, resolveHashKey } from './pseudonym.js';
import * as queries from './queries.js';
import { badParameter, type RangeQuery } from './query-params.js';
import { type RecentEvent, RecentEvents } from './recent-events.js';
import { RedisAnalyticsStore } from './redis-store.js';
import type {
  AnalyticsEvents,
  AnalyticsStats,
  DropReason,
  TrackOptions,
} from './tracking-types.js';
import type { AnalyticsModel, AnalyticsStore, FunnelDefinition } from './types.js';

/** How far ahead of the clock an event's `at` may be (clocks of clients drift). */
const FUTURE_MS = 5 * 60_000;
const WARN_EVERY_MS = 60_000;
const MAX_USER_ID = 256;

/**
 * Product analytics: `track(event, { userId, properties })` from application code, and active
 * users (DAU / WAU / MAU, HyperLogLog), event counts per hour or day and top events, funnels
 * (ordered steps within a time limit) and weekly retention cohorts, from a memory store (one
 * process) or Redis (a deployment). `track()` only pushes to an array: it never blocks, never
 * throws and never waits for the store; bad input is dropped with a warning and a `dropped`
 * event. Events are written in batches every `flushInterval`, with user ids pseudonymised (a
 * keyed HMAC-SHA256) and raw events discarded; while the store is away they wait in memory
 * (bounded) and are written when it is back.
 *
 * @example
 * ```ts
 * const analytics = new Analytics({
 *   redisUrl: process.env.REDIS_URL,
 *   hashKey: process.env.ANALYTICS_HASH_KEY,
 *   funnels: { checkout: { steps: ['view', 'cart', 'pay'], within: '1h' } },
 * });
 * analytics.track('view', { userId: user.id });
 * const { activeUsers } = await analytics.overview();
 * const checkout = await analytics.funnel('checkout', { from: '2024-05-01' });
 * await analytics.close();
 * ```
 */
export class Analytics extends Emitter<AnalyticsEvents> {
  /** The store the figures come from. */
  readonly store: AnalyticsStore;
  readonly #options: ResolvedAnalyticsOptions;
  readonly #owned: boolean;
  readonly #clock: Clock;
  readonly #pipeline: EventPipeline;
  readonly #recent: RecentEvents;
  readonly #pseudonyms: Pseudonymiser;
  readonly #hashKeySource: AnalyticsStats['hashKey'];
  readonly #funnels: Map<string, FunnelDefinition>;
  readonly #names = new Set<string>();
  readonly #dropped: Record<DropReason, number> = {
    invalid: 0,
    'event-limit': 0,
    overflow: 0,
    closed: 0,
  };
  readonly #warnedAt = new Map<string, { at: number; since: number }>();
  #logger: Logger | undefined;
  #tracked = 0;
  #closing: Promise<void> | undefined;

  constructor(options: AnalyticsOptions = {}) {
    super();
    const resolved = resolveAnalyticsOptions(options);
    this.#options = resolved;
    this.#clock = resolved.clock;
    this.#logger = resolved.logger;
    this.#funnels = new Map(resolved.funnels.map((f) => [f.name, f]));
    const spec = resolved.store;
    // The key is checked before a connection is opened: a missing key must not leave one behind.
    const shared = spec.kind === 'redis' || (spec.kind === 'given' && spec.store.shared);
    const { key, source } = resolveHashKey(resolved.hashKey, resolved.hashKeyFromEnv, shared);
    this.#hashKeySource = source;
    this.#pseudonyms = new Pseudonymiser(key);
    this.#owned = spec.kind !== 'given';
    this.store =
      spec.kind === 'given'
        ? spec.store
        : spec.kind === 'memory'
          ? new MemoryAnalyticsStore()
          : this.#redisStore(spec);
    this.#recent = new RecentEvents(resolved.recentEvents);
    const model = {
      funnels: resolved.funnels,
      cohorts: resolved.cohorts,
      retentionMs: resolved.retentionMs,
    };
    this.#pipeline = new EventPipeline(
      this.store,
      (now): AnalyticsModel => ({ ...model, now }),
      this.#pseudonyms,
      this.#recent,
      {
        batchSize: resolved.batchSize,
        maxBuffered: resolved.maxBuffered,
        flushIntervalMs: resolved.flushIntervalMs,
        // A store of the package times its calls out itself; this bounds any other.
        timeoutMs: resolved.commandTimeoutMs + 1_000,
      },
      this.#clock,
      {
        overflow: (count) => this.#drop('overflow', count),
        storeError: (error, buffered) => {
          this.#warn(
            { err: error.message, buffered },
            'analytics: the store failed; events are buffered',
          );
          this.emit('store-error', { error, buffered });
        },
        recovered: (downMs, buffered) => {
          this.#warn(
            { downMs: Math.round(downMs), buffered },
            'analytics: the store is back',
            'info',
          );
          this.emit('store-recovered', { downMs, buffered });
        },
        flushed: (events, batches, ms) => this.emit('flushed', { events, batches, ms }),
      },
    );
    this.#pipeline.start();
  }

  /** The funnels defined, by name. */
  get funnelNames(): string[] {
    return [...this.#funnels.keys()];
  }

  /**
   * Records that `event` happened. Cheap: it checks its arguments and appends to a buffer. It
   * never throws: an invalid argument (an empty or over-long name, a bad `userId`, an `at`
   * outside the retention or ahead of the clock, `properties` that are not an object), a new
   * name past `maxEventNames`, a full buffer or a call after `close()` drops the event, counts it
   * in `stats().dropped`, emits `dropped` and logs a warning (at most one a minute per reason).
   * Returns whether the event was accepted.
   */
  track(event: string, options?: TrackOptions): boolean {
    try {
      return this.#track(event, options);
    } catch {
      // A getter or proxy of the caller's that throws: still never the caller's problem.
      return this.#drop('invalid', 1, 'options');
    }
  }

  #track(event: string, options: TrackOptions | undefined): boolean {
    if (this.#closing !== undefined) return this.#drop('closed', 1);
    // A name seen before was checked then: the usual call skips the check.
    const known = this.#names.has(event);
    if (!known && !isName(event)) return this.#drop('invalid', 1, 'event', event);
    let userId: string | undefined;
    let at: number;
    let properties: object | undefined;
    const now = this.#clock.epochNow();
    if (options === undefined) {
      at = now;
    } else {
      if (typeof options !== 'object' || options === null)
        return this.#drop('invalid', 1, 'options', event);
      const id = options.userId;
      if (typeof id === 'string') {
        if (id.length === 0 || id.length > MAX_USER_ID)
          return this.#drop('invalid', 1, 'userId', event);
        userId = id;
      } else if (typeof id === 'number') {
        if (!Number.isFinite(id)) return this.#drop('invalid', 1, 'userId', event);
        userId = String(id);
      } else if (id !== undefined && id !== null) {
        return this.#drop('invalid', 1, 'userId', event);
      }
      const when = options.at;
      if (when === undefined) at = now;
      else {
        at = typeof when === 'number' ? when : when instanceof Date ? when.getTime() : Number.NaN;
        if (!(at >= now - this.#options.retentionMs && at <= now + FUTURE_MS)) {
          return this.#drop('invalid', 1, 'at', event);
        }
        at = Math.floor(at);
      }
      properties = options.properties;
      if (
        properties !== undefined &&
        (typeof properties !== 'object' || properties === null || Array.isArray(properties))
      ) {
        return this.#drop('invalid', 1, 'properties', event);
      }
    }
    if (!known) {
      if (this.#names.size >= this.#options.maxEventNames)
        return this.#drop('event-limit', 1, 'event', event);
      this.#names.add(event);
    }
    if (!this.#pipeline.push(event, userId, at, properties)) return this.#drop('overflow', 1);
    this.#tracked++;
    return true;
  }

  /** The pseudonym `userId` is stored under (to answer a subject-access request, say). */
  pseudonym(userId: string | number): string {
    return this.#pseudonyms.of(String(userId));
  }

  /**
   * Writes what is buffered now, without waiting for the timer or for the retry delay of an
   * outage. Never rejects: when the store fails, the events stay buffered (see `stats()`).
   */
  flush(): Promise<void> {
    return this.#pipeline.flush();
  }

  /** Figures of this process's pipeline. */
  stats(): AnalyticsStats {
    const p = this.#pipeline;
    return {
      tracked: this.#tracked,
      written: p.written,
      buffered: p.buffered,
      dropped: { ...this.#dropped },
      storeDown: p.down,
      storeErrors: p.storeErrors,
      outages: p.outages,
      ...(p.lastError === undefined ? {} : { lastError: p.lastError }),
      ...(p.lastWriteAt === undefined
        ? {}
        : { lastWriteAt: new Date(p.lastWriteAt).toISOString() }),
      hashKey: this.#hashKeySource,
    };
  }

  /** The latest events tracked by this process (pseudonymised), newest first: the only raw events kept. */
  recent(limit?: number): RecentEvent[] {
    return this.#recent.list(limit);
  }

  /**
   * Active users today, over 7 and 30 days, daily active users of the last 30 days, event totals
   * and the top events of the last 7 days, and the pipeline's figures. Rejects with an
   * `AnalyticsStoreError` when the store does not answer.
   */
  async overview(): Promise<
    queries.OverviewFigures & { funnels: string[]; pipeline: AnalyticsStats }
  > {
    const figures = await queries.overview(this.#context());
    return { ...figures, funnels: this.funnelNames, pipeline: this.stats() };
  }

  /** Event counts per hour or day over a range, with the top events. A bad parameter is an `AnalyticsQueryError` naming it. */
  events(query?: queries.EventsQuery): Promise<queries.EventsReport> {
    return queries.events(this.#context(), query);
  }

  /** One funnel over a range of start days (the last 7 by default). An unknown name is an `AnalyticsQueryError` naming `funnel`. */
  async funnel(name: string, query?: RangeQuery): Promise<queries.FunnelReport> {
    const definition = this.#funnels.get(name);
    if (definition === undefined) {
      throw badParameter(
        'funnel',
        name,
        `one of the funnels defined (${this.funnelNames.join(', ') || 'none'})`,
      );
    }
    return queries.funnel(this.#context(), definition, query);
  }

  /** Every funnel over the same range. */
  funnels(query?: RangeQuery): Promise<queries.FunnelReport[]> {
    return Promise.all(this.funnelNames.map((name) => this.funnel(name, query)));
  }

  /** Weekly retention cohorts, the last `weeks` weeks up to `to` (now). */
  retention(query?: { weeks?: number; to?: RangeQuery['to'] }): Promise<queries.RetentionReport> {
    return queries.retention(this.#context(), this.#options.cohorts, query);
  }

  /**
   * Stops the timer, writes what is buffered (waiting at most `closeTimeout`), then closes the
   * store if this instance opened it. Events still unwritten are dropped (`dropped`, reason
   * `closed`). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#pipeline.stop();
      await rejectAfter(
        this.#pipeline.flush(),
        this.#options.closeTimeoutMs,
        'close timeout',
      ).catch(() => undefined);
      const lost = this.#pipeline.discard();
      if (lost > 0) this.#drop('closed', lost);
      if (this.#owned) await this.store.close?.().catch(() => undefined);
    })();
    return this.#closing;
  }

  /** The relative standard error of active-user figures (HyperLogLog with 2^14 registers). */
  static readonly activeUsersError = HyperLogLog.standardError;

  #context(): queries.QueryContext {
    return {
      store: this.store,
      now: this.#clock.epochNow(),
      retentionMs: this.#options.retentionMs,
    };
  }

  #redisStore(spec: Extract<ResolvedAnalyticsOptions['store'], { kind: 'redis' }>): AnalyticsStore {
    let warned = false;
    return new RedisAnalyticsStore({
      ...(spec.client === undefined ? { url: spec.url! } : { client: spec.client }),
      prefix: spec.prefix,
      commandTimeoutMs: this.#options.commandTimeoutMs,
      onError: (error) => {
        // ioredis reports every failed reconnection; store-recovered says when it is back.
        if (!warned) this.#warn({ err: error.message }, 'analytics: Redis connection error');
        warned = true;
      },
    });
  }

  /** A warning through the logger, which must not turn `track()` into a throwing call. */
  #warn(fields: Record<string, unknown>, message: string, level: 'warn' | 'info' = 'warn'): void {
    try {
      this.#log()[level](fields, message);
    } catch {
      // nowhere left to report to
    }
  }

  #log(): Logger {
    this.#logger ??= createDefaultLogger('info').child({ module: 'analytics' });
    return this.#logger;
  }

  /** Counts, reports and warns about dropped events; returns false for `track()` to return. */
  #drop(reason: DropReason, count: number, field?: string, event?: unknown): false {
    this.#dropped[reason] += count;
    const name = typeof event === 'string' && isName(event) ? event : undefined;
    this.emit('dropped', {
      reason,
      count,
      ...(field === undefined ? {} : { field }),
      ...(name === undefined ? {} : { event: name }),
    });
    const key = field === undefined ? reason : `${reason}:${field}`;
    const now = this.#clock.now();
    const warned = this.#warnedAt.get(key);
    if (warned === undefined || now - warned.at >= WARN_EVERY_MS) {
      const total = this.#dropped[reason];
      const since = warned === undefined ? count : total - warned.since;
      this.#warnedAt.set(key, { at: now, since: total });
      this.#warn(
        { reason, ...(field === undefined ? {} : { field }), dropped: since },
        `analytics: events dropped (${reason}${field === undefined ? '' : `: ${field}`})`,
      );
    }
    return false;
  }
}
