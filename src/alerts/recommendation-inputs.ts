// Snapshots for `recommend()` read from the modules through their public APIs.
import type { Cache } from '../cache/cache.js';
import type { PerformanceMonitor } from '../performance/performance-monitor.js';
import { DB_QUERY_OPERATION } from '../performance/query-timings.js';
import type { WindowName } from '../performance/types.js';
import type {
  BottleneckFigures,
  CacheNamespaceFigures,
  EventLoopFigures,
  OperationFigures,
  QueryFigures,
  QueueFigures,
  RecommendationInputs,
} from './recommendation-types.js';
import type { TaskStatsReader } from './sources/tasks.js';

/** What the performance figures read of a monitor (a `PerformanceMonitor` is one). */
export type PerformanceFiguresReader = Pick<
  PerformanceMonitor,
  'operations' | 'system' | 'bottlenecks'
>;

/**
 * Options of {@link performanceFigures}.
 *
 * @example
 * ```ts
 * performanceFigures(enterprise.performance, { window: '5m' });
 * ```
 */
export interface PerformanceFiguresOptions {
  /**
   * The window of the query shares and of the ranking by total time: long enough that one burst
   * does not decide. The figures matched against the event loop are always the last minute's.
   * @defaultValue '15m'
   */
  window?: WindowName;
  /** The operation database queries are recorded under. @defaultValue 'db.query' */
  queryOperation?: string;
}

/**
 * The performance part of a snapshot: statements by fingerprint, operations over the last minute,
 * the event loop of the latest system sample (absent while system metrics are off) and the
 * ranking by total time.
 *
 * @example
 * ```ts
 * const advice = recommend({ at: Date.now(), ...performanceFigures(enterprise.performance) });
 * ```
 */
export function performanceFigures(
  monitor: PerformanceFiguresReader,
  options: PerformanceFiguresOptions = {},
): Pick<RecommendationInputs, 'queries' | 'operations' | 'eventLoop' | 'bottlenecks'> {
  const window = options.window ?? '15m';
  const queryOperation = options.queryOperation ?? DB_QUERY_OPERATION;
  const queries: QueryFigures[] = [];
  const operations: OperationFigures[] = [];
  for (const op of monitor.operations()) {
    const recent = op.windows['1m'];
    operations.push({
      operation: op.name,
      labels: op.labels,
      count: recent.count,
      p99Ms: recent.p99,
      maxMs: recent.max,
    });
    const statement = op.labels.statement;
    const stats = op.windows[window];
    if (op.name === queryOperation && statement !== undefined && stats.count > 0) {
      queries.push({ statement, count: stats.count, totalMs: stats.totalMs, p95Ms: stats.p95 });
    }
  }
  const system = monitor.system();
  const eventLoop: EventLoopFigures | null =
    system === null
      ? null
      : {
          delayP99Ms: system.eventLoop.delayP99Ms,
          delayMaxMs: system.eventLoop.delayMaxMs,
          utilization: system.eventLoop.utilization,
        };
  const bottlenecks: BottleneckFigures[] = monitor
    .bottlenecks({ window, limit: 5 })
    .byTotalTime.map((b) => ({
      operation: b.name,
      labels: b.labels,
      share: b.share,
      totalMs: b.totalMs,
    }));
  return { queries, operations, eventLoop, bottlenecks };
}

/**
 * The cache part of a snapshot: each namespace's lookups and loader time since the cache started.
 *
 * @example
 * ```ts
 * const advice = recommend({ at: Date.now(), cache: cacheFigures(enterprise.cache) });
 * ```
 */
export function cacheFigures(cache: Pick<Cache, 'analytics'>): CacheNamespaceFigures[] {
  return Object.entries(cache.analytics().namespaces).map(([namespace, stats]) => ({
    namespace,
    hits: stats.hits,
    misses: stats.misses,
    loaderCalls: stats.loaderCalls,
    loaderMs: stats.loaderMs,
  }));
}

/**
 * The task part of a snapshot: each queue's depth and oldest waiting age, and the healthy worker
 * pools consuming it with their concurrency.
 *
 * @example
 * ```ts
 * const advice = recommend({ at: Date.now(), queues: await taskFigures(enterprise.tasks) });
 * ```
 */
export async function taskFigures(tasks: TaskStatsReader): Promise<QueueFigures[]> {
  const stats = await tasks.stats();
  return stats.queues.map((queue) => {
    const healthy = queue.workers.filter((worker) => worker.healthy);
    return {
      queue: queue.name,
      waiting: queue.waiting,
      oldestWaitingMs: queue.oldestWaitingMs,
      concurrency: healthy.reduce((sum, worker) => sum + worker.concurrency, 0),
      workers: healthy.length,
    };
  });
}

/**
 * The modules {@link recommendationInputs} reads; give the ones the instance has.
 *
 * @example
 * ```ts
 * const modules: RecommendationModules = { performance: enterprise.performance, cache: enterprise.cache };
 * ```
 */
export interface RecommendationModules {
  performance?: PerformanceFiguresReader;
  cache?: Pick<Cache, 'analytics'>;
  tasks?: TaskStatsReader;
}

/**
 * A whole snapshot from the modules given, stamped with the time of reading.
 *
 * @example
 * ```ts
 * const recommender = new Recommender();
 * const advice = recommender.update(
 *   await recommendationInputs({ performance: e.performance, cache: e.cache, tasks: e.tasks }),
 * );
 * ```
 */
export async function recommendationInputs(
  modules: RecommendationModules,
  options: PerformanceFiguresOptions & { now?: () => number } = {},
): Promise<RecommendationInputs> {
  const inputs: RecommendationInputs = { at: (options.now ?? Date.now)() };
  if (modules.performance !== undefined) {
    Object.assign(inputs, performanceFigures(modules.performance, options));
  }
  if (modules.cache !== undefined) inputs.cache = cacheFigures(modules.cache);
  if (modules.tasks !== undefined) inputs.queues = await taskFigures(modules.tasks);
  return inputs;
}
