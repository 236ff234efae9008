/**
 * One tracked event as a store receives it: the user id already pseudonymised.
 *
 * @example
 * ```ts
 * const event: TrackedEvent = { event: 'signup', user: '9f86d081884c7d65', at: Date.now() };
 * ```
 */
export interface TrackedEvent {
  /** The event name. */
  readonly event: string;
  /** The user's pseudonym (16 lowercase hex digits: a truncated HMAC-SHA256); none for anonymous events. */
  readonly user?: string;
  /** When it happened, in epoch milliseconds. */
  readonly at: number;
}

/**
 * A funnel: users who did `steps` in this order, each step within `withinMs` of the first.
 *
 * @example
 * ```ts
 * const funnel: FunnelDefinition = { name: 'checkout', steps: ['cart', 'pay', 'paid'], withinMs: 86_400_000 };
 * ```
 */
export interface FunnelDefinition {
  /** The funnel's name (its key in the store). */
  readonly name: string;
  /** The event names of the steps, in order (at least two). */
  readonly steps: readonly string[];
  /** The longest time from the first step to the last, in milliseconds. */
  readonly withinMs: number;
}

/**
 * How weekly retention cohorts are built.
 *
 * @example
 * ```ts
 * const cohorts: CohortDefinition = { weeks: 8, startEvent: 'signup' };
 * ```
 */
export interface CohortDefinition {
  /** Weeks followed after a cohort's first week (the first included); at most 32. */
  readonly weeks: number;
  /** The event that puts a user in the cohort of its week; any event when absent (first seen). */
  readonly startEvent?: string;
  /** The event that counts as coming back; any event when absent. */
  readonly returnEvent?: string;
}

/**
 * What a store folds a batch into: the funnels to follow, the cohorts, how long aggregates are kept.
 *
 * @example
 * ```ts
 * const model: AnalyticsModel = { funnels: [], cohorts: { weeks: 12 }, retentionMs: 90 * 86_400_000, now: Date.now() };
 * ```
 */
export interface AnalyticsModel {
  readonly funnels: readonly FunnelDefinition[];
  readonly cohorts: CohortDefinition;
  /** How long counts, active users and funnel figures are kept, in milliseconds. */
  readonly retentionMs: number;
  /** The time of the write, in epoch milliseconds: events older than `now - retentionMs` are not kept. */
  readonly now: number;
}

/**
 * A batch of tracked events, in the order they happened, with an id that makes its write
 * idempotent: a batch sent again (its first write's answer lost) is not counted twice.
 *
 * @example
 * ```ts
 * await store.record({ id: randomUUID(), events, model });
 * ```
 */
export interface AnalyticsBatch {
  readonly id: string;
  /** Sorted by `at` (ties in tracking order). */
  readonly events: readonly TrackedEvent[];
  readonly model: AnalyticsModel;
}

/**
 * An inclusive range of UTC days (days since the epoch, see `dayOf`).
 *
 * @example
 * ```ts
 * const lastWeek: DayRange = { from: dayOf(Date.now()) - 6, to: dayOf(Date.now()) };
 * ```
 */
export interface DayRange {
  readonly from: number;
  readonly to: number;
}

/**
 * The event counts of one UTC hour.
 *
 * @example
 * ```ts
 * const row: HourCounts = { hour: hourOf(Date.now()), counts: new Map([['signup', 3]]) };
 * ```
 */
export interface HourCounts {
  /** Hours since the epoch (see `hourOf`). */
  readonly hour: number;
  readonly counts: ReadonlyMap<string, number>;
}

/**
 * One weekly cohort: how many users entered it, and how many of them came back each week after.
 *
 * @example
 * ```ts
 * const row: CohortCounts = { week: 2_870, returned: [120, 54, 40, 38] }; // 120 users, 45% in week 1
 * ```
 */
export interface CohortCounts {
  /** Weeks since the epoch's Monday (see `weekOf`). */
  readonly week: number;
  /** `returned[k]`: users of the cohort active in week `week + k`; `returned[0]` is the cohort's size. */
  readonly returned: readonly number[];
}

/**
 * Where the analytics module keeps its aggregates: event counts per hour, active users per day
 * (HyperLogLog), funnel progress and weekly cohorts. The memory store serves one process; the
 * Redis store a deployment, whose instances all write to it. A store never keeps raw events.
 * `describeAnalyticsStore` (from `@revcopy/enterprise/testing`) is the contract.
 *
 * @example
 * ```ts
 * const store: AnalyticsStore = new RedisAnalyticsStore({ url: process.env.REDIS_URL });
 * const analytics = new Analytics({ store, hashKey: process.env.ANALYTICS_HASH_KEY });
 * ```
 */
export interface AnalyticsStore {
  /**
   * Whether several processes share what the store holds (Redis): then every instance must
   * pseudonymise user ids with the same key, and the analytics module requires one.
   */
  readonly shared: boolean;
  /**
   * Folds `batch` into the aggregates: counts per hour and event, the user into the sketch of
   * its day, funnel progress, cohorts. Idempotent per `batch.id` for at least a day. Events older
   * than `model.now - model.retentionMs` are left out.
   */
  record(batch: AnalyticsBatch): Promise<void>;
  /** The counts of each hour from `fromHour` to `toHour` (inclusive) that has any. */
  eventCounts(fromHour: number, toHour: number): Promise<readonly HourCounts[]>;
  /** The distinct users active in each range (HyperLogLog estimates), in the order given. */
  activeUsers(ranges: readonly DayRange[]): Promise<readonly number[]>;
  /**
   * Per step of `funnel`, the distinct users who started it on a day from `fromDay` to `toDay`
   * (inclusive) and reached that step within its time limit. Exact.
   */
  funnel(funnel: FunnelDefinition, fromDay: number, toDay: number): Promise<readonly number[]>;
  /**
   * The cohorts of the weeks from `fromWeek` to `toWeek` (inclusive), each with `weeks` counts
   * (0 where nobody came back or the week has not come yet). Exact.
   */
  cohorts(fromWeek: number, toWeek: number, weeks: number): Promise<readonly CohortCounts[]>;
  /** Releases what the store opened (a connection it made). */
  close?(): Promise<void>;
}
