// The shapes of the recommendations and of the figures they are derived from.
import type { AlertSeverity } from './types.js';

/** What a recommendation is about. */
export type RecommendationKind =
  | 'dominant-query'
  | 'cache-slow-loader'
  | 'queue-ageing'
  | 'event-loop-blocker'
  | 'persistent-bottleneck';

/**
 * One piece of advice: what is wrong, what to do, and the measured figures behind it.
 *
 * @example
 * ```ts
 * const r: Recommendation = {
 *   id: 'dominant-query:SELECT * FROM orders WHERE customer_id = ?',
 *   kind: 'dominant-query',
 *   severity: 'warning',
 *   title: 'One statement takes 72 % of the database time',
 *   advice: 'Look at its plan ...',
 *   evidence: { statement: 'SELECT * FROM orders WHERE customer_id = ?', share: 0.72, totalMs: 51200 },
 * };
 * ```
 */
export interface Recommendation {
  /** Stable while the same problem concerns the same subject: `<kind>:<subject>`. */
  id: string;
  kind: RecommendationKind;
  severity: AlertSeverity;
  title: string;
  advice: string;
  /** The figures the advice rests on (shares 0 to 1, durations in ms). */
  evidence: Record<string, number | string>;
}

/** One SQL statement fingerprint over the window. */
export interface QueryFigures {
  statement: string;
  count: number;
  totalMs: number;
  p95Ms: number | null;
}

/** One cache namespace, counted since the cache started. */
export interface CacheNamespaceFigures {
  namespace: string;
  hits: number;
  misses: number;
  loaderCalls: number;
  /** Time spent in the namespace's loaders. */
  loaderMs: number;
}

/** One task queue now. */
export interface QueueFigures {
  queue: string;
  waiting: number;
  oldestWaitingMs: number;
  /** Sum of the concurrency of the healthy worker pools consuming it. */
  concurrency: number;
  /** Healthy worker pools consuming it. */
  workers: number;
}

/** One operation (name and label set) over the last minute. */
export interface OperationFigures {
  operation: string;
  labels: Readonly<Record<string, string>>;
  count: number;
  p99Ms: number | null;
  maxMs: number | null;
}

/** The event loop since the previous system sample. */
export interface EventLoopFigures {
  delayP99Ms: number;
  delayMaxMs: number;
  utilization: number;
}

/** One entry of the ranking by share of total time, first = largest. */
export interface BottleneckFigures {
  operation: string;
  labels: Readonly<Record<string, string>>;
  /** 0 to 1. */
  share: number;
  totalMs: number;
}

/** What earlier snapshots showed; kept by {@link Recommender}. */
export interface RecommendationHistory {
  /** Per queue, the oldest waiting age seen at earlier snapshots, oldest first. */
  queueAges?: Readonly<Record<string, readonly { at: number; ms: number }[]>>;
  /** The operation ranked first by total time at the previous snapshot, and since when. */
  leader?: { key: string; since: number };
}

/**
 * A snapshot of measured figures. Every part is optional: a check runs only on the parts given.
 *
 * @example
 * ```ts
 * const inputs: RecommendationInputs = {
 *   at: Date.now(),
 *   queries: [{ statement: 'SELECT * FROM orders WHERE customer_id = ?', count: 9000, totalMs: 51200, p95Ms: 12 }],
 * };
 * ```
 */
export interface RecommendationInputs {
  /** When the figures were read, epoch milliseconds. */
  at: number;
  queries?: readonly QueryFigures[];
  cache?: readonly CacheNamespaceFigures[];
  queues?: readonly QueueFigures[];
  operations?: readonly OperationFigures[];
  eventLoop?: EventLoopFigures | null;
  /** Ranked by share of total time, largest first. */
  bottlenecks?: readonly BottleneckFigures[];
  /** Earlier snapshots, for the checks that need a trend (queue ageing, persistent bottleneck). */
  history?: RecommendationHistory;
}

/**
 * The thresholds of the checks.
 *
 * @example
 * ```ts
 * recommend(inputs, { dominantQueryShare: 0.4, slowLoaderMs: 50 });
 * ```
 */
export interface RecommendOptions {
  /** A statement taking more than this share of the database time dominates it. @defaultValue 0.5 */
  dominantQueryShare?: number;
  /** Below this much database time in the window, no statement is singled out. @defaultValue 1000 */
  minQueryTimeMs?: number;
  /** A namespace hit ratio below this is low. @defaultValue 0.5 */
  lowHitRatio?: number;
  /** A mean load time at or above this is slow. @defaultValue 100 */
  slowLoaderMs?: number;
  /** Fewer lookups than this say nothing about a namespace's hit ratio. @defaultValue 100 */
  minLookups?: number;
  /** An oldest waiting age below this is not a problem, growing or not. @defaultValue 60000 */
  queueAgeMs?: number;
  /** Snapshots in a row, the current one included, over which the age must not drop. @defaultValue 3 */
  queueSamples?: number;
  /** How long the age must have kept growing. @defaultValue 300000 (5 minutes) */
  queueSpanMs?: number;
  /** An event-loop stall at least this long is looked into. @defaultValue 100 */
  blockedLoopMs?: number;
  /** How long an operation must have been ranked first. @defaultValue 900000 (15 minutes) */
  leaderForMs?: number;
  /** The share of total time the first-ranked operation must have. @defaultValue 0.3 */
  leaderShare?: number;
}

/** @internal {@link RecommendOptions} with every default applied. */
export type RecommendSettings = Required<RecommendOptions>;
