import type { SystemMetricsSnapshot } from '../../performance/types.js';

// The figures a recorder samples besides operations: system metrics, cache and task figures, or
// anything a function returns. The history takes them through these small shapes, so it needs
// neither the cache nor the task module: the composition hands in `() => cacheFigures(cache.analytics())`.

/**
 * One figure at one sample: a gauge (a level such as heap used or queue depth, kept as sampled) or
 * a counter (a running total such as cache hits: the history keeps its increase between samples).
 *
 * @example
 * ```ts
 * const depth: HistoryFigure = { metric: 'tasks.queue.waiting', labels: { queue: 'emails' }, value: 12 };
 * const hits: HistoryFigure = { metric: 'cache.hits', value: 1_204_332, kind: 'counter' };
 * ```
 */
export interface HistoryFigure {
  /** A dotted name such as `system.memory.heap_used`. */
  metric: string;
  labels?: Readonly<Record<string, string>>;
  value: number;
  /** @defaultValue 'gauge' */
  kind?: 'gauge' | 'counter';
}

/**
 * A function the recorder calls at each sample for figures; it may be async (bounded by the
 * recorder's `sourceTimeoutMs`), and one that throws costs only its own figures.
 *
 * @example
 * ```ts
 * const source: HistoryFigureSource = () => systemFigures(enterprise.performance.system());
 * ```
 */
export type HistoryFigureSource = () =>
  | readonly HistoryFigure[]
  | Promise<readonly HistoryFigure[]>;

/**
 * The system metrics of a performance monitor's sample as gauges: CPU, memory, event-loop delay
 * and utilization, the longest GC pause. An empty list for `null` (system metrics turned off).
 *
 * @example
 * ```ts
 * new HistoryRecorder({ store, figures: [() => systemFigures(enterprise.performance.system())] });
 * ```
 */
export function systemFigures(snapshot: SystemMetricsSnapshot | null | undefined): HistoryFigure[] {
  if (snapshot === null || snapshot === undefined) return [];
  const { cpu, memory, eventLoop, gc } = snapshot;
  return [
    { metric: 'system.cpu.percent', value: cpu.percent },
    { metric: 'system.memory.rss', value: memory.rss },
    { metric: 'system.memory.heap_used', value: memory.heapUsed },
    { metric: 'system.memory.heap_total', value: memory.heapTotal },
    { metric: 'system.memory.external', value: memory.external },
    { metric: 'system.event_loop.delay_p50_ms', value: eventLoop.delayP50Ms },
    { metric: 'system.event_loop.delay_p99_ms', value: eventLoop.delayP99Ms },
    { metric: 'system.event_loop.delay_max_ms', value: eventLoop.delayMaxMs },
    { metric: 'system.event_loop.utilization', value: eventLoop.utilization },
    { metric: 'system.gc.max_pause_ms', value: gc.maxPauseMs },
  ];
}

/**
 * The parts of the cache's analytics {@link cacheFigures} reads; `cache.analytics()` fits.
 *
 * @example
 * ```ts
 * const input: CacheFiguresInput = { hits: 90, misses: 10, tiers: [{ name: 'memory', hits: 80, misses: 20, errors: 0 }] };
 * ```
 */
export interface CacheFiguresInput {
  hits: number;
  misses: number;
  tiers?: readonly { name: string; hits: number; misses: number; errors?: number }[];
  namespaces?: Readonly<
    Record<string, { hits: number; misses: number; sets?: number; loaderErrors?: number }>
  >;
}

/**
 * The cache's running totals as counters: `cache.hits` and `cache.misses`, per tier
 * (`cache.tier.hits`, `.misses`, `.errors`, label `tier`) and per namespace
 * (`cache.namespace.hits`, `.misses`, `.sets`, `.loader_errors`, label `namespace`). A step's hit
 * ratio is the sum of hits over the sum of hits and misses.
 *
 * @example
 * ```ts
 * new HistoryRecorder({ store, figures: [() => cacheFigures(enterprise.cache.analytics())] });
 * ```
 */
export function cacheFigures(analytics: CacheFiguresInput): HistoryFigure[] {
  const counter = (metric: string, value: number | undefined, labels?: Record<string, string>) =>
    value === undefined ? [] : [{ metric, value, kind: 'counter' as const, labels }];
  const figures: HistoryFigure[] = [
    ...counter('cache.hits', analytics.hits),
    ...counter('cache.misses', analytics.misses),
  ];
  for (const tier of analytics.tiers ?? []) {
    const labels = { tier: tier.name };
    figures.push(
      ...counter('cache.tier.hits', tier.hits, labels),
      ...counter('cache.tier.misses', tier.misses, labels),
      ...counter('cache.tier.errors', tier.errors, labels),
    );
  }
  for (const [namespace, stats] of Object.entries(analytics.namespaces ?? {})) {
    const labels = { namespace };
    figures.push(
      ...counter('cache.namespace.hits', stats.hits, labels),
      ...counter('cache.namespace.misses', stats.misses, labels),
      ...counter('cache.namespace.sets', stats.sets, labels),
      ...counter('cache.namespace.loader_errors', stats.loaderErrors, labels),
    );
  }
  return figures;
}

/**
 * The parts of the task statistics {@link taskFigures} reads; `tasks.stats()` fits.
 *
 * @example
 * ```ts
 * const input: TaskFiguresInput = { queues: [{ name: 'default', waiting: 3, active: 1, delayed: 0, dead: 0 }] };
 * ```
 */
export interface TaskFiguresInput {
  queues: readonly {
    name: string;
    waiting: number;
    active: number;
    delayed: number;
    dead: number;
  }[];
  totals?: { completed: number; failed: number; retried: number; dead: number };
}

/**
 * Queue depths as gauges (`tasks.queue.waiting`, `.active`, `.delayed`, `.dead`, label `queue`)
 * and this process's attempts as counters (`tasks.completed`, `.failed`, `.retried`, `.dead`).
 *
 * @example
 * ```ts
 * new HistoryRecorder({ store, figures: [async () => taskFigures(await enterprise.tasks.stats())] });
 * ```
 */
export function taskFigures(stats: TaskFiguresInput): HistoryFigure[] {
  const figures: HistoryFigure[] = [];
  for (const queue of stats.queues) {
    const labels = { queue: queue.name };
    figures.push(
      { metric: 'tasks.queue.waiting', labels, value: queue.waiting },
      { metric: 'tasks.queue.active', labels, value: queue.active },
      { metric: 'tasks.queue.delayed', labels, value: queue.delayed },
      { metric: 'tasks.queue.dead', labels, value: queue.dead },
    );
  }
  if (stats.totals !== undefined) {
    for (const field of ['completed', 'failed', 'retried', 'dead'] as const) {
      figures.push({ metric: `tasks.${field}`, value: stats.totals[field], kind: 'counter' });
    }
  }
  return figures;
}
