// The alerts module's AlertHistoryReader over the instance's metrics history: which history figure
// answers for which value source, read at the step a detector asks for. Types only from both
// modules, so the alerts entry loads nothing of the analytics module.
import type {
  AlertHistoryPoint,
  AlertHistoryReader,
  AlertHistoryRequest,
  AlertHistorySeries,
} from '../alerts/history-reader.js';
import type {
  HistoryPoint,
  HistoryStore,
  MetricPoint,
  SeriesInfo,
} from '../analytics/history/types.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Queries of one read at the same time. */
const CONCURRENCY = 8;

/** What the reader uses of a history store. */
export type AlertHistoryStore = Pick<
  HistoryStore,
  'query' | 'queryMetric' | 'series' | 'retention'
>;

type Labels = Record<string, string>;

/** How one source's series are read from the history. */
type SourceHistory =
  | { kind: 'operation'; pick: (point: HistoryPoint) => number | null }
  | { kind: 'gauge'; metric: string; label?: string }
  | { kind: 'hit-ratio' };

const operation = (pick: (point: HistoryPoint) => number | null): SourceHistory => ({
  kind: 'operation',
  pick,
});

/**
 * The value sources the history answers for, and how. The per-operation figures come from the
 * operation's rollups (percentiles of the merged histogram, errors over calls, calls per second);
 * the system figures and queue depths are gauges (their mean over the step); a hit ratio is the
 * hits over the lookups of the step. `tasks.failure_rate` (per queue) has no history: the history
 * counts attempts for the whole process.
 */
const SOURCES: Readonly<Record<string, SourceHistory>> = {
  'operation.p50': operation((p) => p.p50),
  'operation.p95': operation((p) => p.p95),
  'operation.p99': operation((p) => p.p99),
  'operation.error_rate': operation((p) => (p.count === 0 ? null : p.errorRate)),
  'operation.throughput': operation((p) => p.rate),
  'system.cpu': { kind: 'gauge', metric: 'system.cpu.percent' },
  'system.rss_bytes': { kind: 'gauge', metric: 'system.memory.rss' },
  'system.heap_used_bytes': { kind: 'gauge', metric: 'system.memory.heap_used' },
  'system.event_loop_delay_p99_ms': { kind: 'gauge', metric: 'system.event_loop.delay_p99_ms' },
  'system.event_loop_utilization': { kind: 'gauge', metric: 'system.event_loop.utilization' },
  'tasks.queue_depth': { kind: 'gauge', metric: 'tasks.queue.waiting', label: 'queue' },
  'tasks.dead_letters': { kind: 'gauge', metric: 'tasks.queue.dead', label: 'queue' },
  'cache.hit_ratio': { kind: 'hit-ratio' },
};

/**
 * @internal An {@link AlertHistoryReader} over the history store `store()` returns (`undefined`
 * while the instance has no metrics history: every source then has none).
 *
 * Each past point is placed where a live reading would have shown it: at the end of its step for
 * figures taken over a window (an operation's percentiles, a hit ratio), in its middle for gauges
 * (their mean over the step). A range older than the minutes the store keeps is read from its
 * hours, the rest at the step asked for.
 *
 * @example
 * ```ts
 * new Alerts({ history: alertHistoryReader(() => enterprise.peek('history')?.store) });
 * ```
 */
export function alertHistoryReader(store: () => AlertHistoryStore | undefined): AlertHistoryReader {
  return {
    async read(request) {
      const source = SOURCES[request.source];
      const history = store();
      if (source === undefined || history === undefined) return undefined;
      return readSource(history, source, request);
    },
  };
}

async function readSource(
  store: AlertHistoryStore,
  source: SourceHistory,
  request: AlertHistoryRequest,
): Promise<AlertHistorySeries[]> {
  const held = await store.series();
  const ranges = rangesOf(store, request);
  const where = request.where ?? {};
  const wanted: { labels: Labels; read: () => Promise<AlertHistoryPoint[]> }[] = [];
  for (const info of held) {
    const found = seriesFor(store, source, info, ranges, request.to);
    if (found !== undefined && includes(found.labels, where)) wanted.push(found);
    if (wanted.length >= request.maxSeries) break;
  }
  return mapLimit(wanted, CONCURRENCY, request.signal, async ({ labels, read }) => ({
    labels,
    points: await read(),
  }));
}

/** The source series a history series stands for, and how to read its points; `undefined` if none. */
function seriesFor(
  store: AlertHistoryStore,
  source: SourceHistory,
  info: SeriesInfo,
  ranges: readonly Range[],
  to: number,
): { labels: Labels; read: () => Promise<AlertHistoryPoint[]> } | undefined {
  if (source.kind === 'operation') {
    if (info.kind !== 'operation') return undefined;
    // The monitor reserves the label `operation` for the operation's name, as the source does.
    return {
      labels: { ...info.labels, operation: info.name },
      read: () =>
        collect(ranges, to, 'end', async (range) => {
          const series = await store.query({ operation: info.name, labels: info.labels, ...range });
          // Before its first call the operation did not exist yet: no zero throughput for it.
          const first = series.points.findIndex((p) => p.count > 0);
          return series.points
            .slice(first < 0 ? series.points.length : first)
            .map((p) => [p.at, series.stepMs, source.pick(p)]);
        }),
    };
  }
  if (info.kind !== 'metric') return undefined;
  if (source.kind === 'gauge') {
    if (info.name !== source.metric) return undefined;
    const labels: Labels = {};
    if (source.label !== undefined) {
      const value = info.labels[source.label];
      if (value === undefined) return undefined;
      labels[source.label] = value;
    }
    return {
      labels,
      read: () =>
        collect(ranges, to, 'middle', async (range) => {
          const series = await store.queryMetric({ metric: source.metric, labels, ...range });
          return series.points.map((p) => [p.at, series.stepMs, p.mean]);
        }),
    };
  }
  // A hit ratio per namespace and per tier, as the cache source gives them.
  const scope =
    info.name === 'cache.namespace.hits'
      ? 'namespace'
      : info.name === 'cache.tier.hits'
        ? 'tier'
        : undefined;
  const value = scope === undefined ? undefined : info.labels[scope];
  if (scope === undefined || value === undefined) return undefined;
  const labels: Labels = { [scope]: value };
  return {
    labels,
    read: () =>
      collect(ranges, to, 'end', async (range) => {
        const [hits, misses] = await Promise.all([
          store.queryMetric({ metric: `cache.${scope}.hits`, labels, ...range }),
          store
            .queryMetric({ metric: `cache.${scope}.misses`, labels, ...range })
            .catch(() => undefined),
        ]);
        return hits.points.map((p, i) => [p.at, hits.stepMs, ratio(p, misses?.points[i])]);
      }),
  };
}

function ratio(hits: MetricPoint, misses: MetricPoint | undefined): number | null {
  const h = hits.sum;
  const m = misses?.sum ?? 0;
  return h + m > 0 ? h / (h + m) : null;
}

/** One query of a read: a range at a step. */
interface Range {
  from: number;
  to: number;
  /** Seconds, a whole number of minutes. */
  step: number;
  /**
   * For hours read in place of the minutes the store no longer keeps: the step asked for, at which
   * each hour's value is handed on once per step it covers, so a detector learns as many samples
   * of that hour as minutes would have given it (a seasonal cell needs several to judge by).
   */
  spreadMs?: number;
}

/**
 * The queries that cover the request: the part older than the minutes the store keeps (with a
 * minute's margin either way) in hours, the rest at the step asked for, its steps laid out to end
 * at `to` (a step that would run past it is not history yet).
 */
function rangesOf(store: AlertHistoryStore, request: AlertHistoryRequest): Range[] {
  const { from, to, stepMs } = request;
  const step = (ms: number) => ms / 1000;
  const ending = (start: number) => to - Math.floor((to - start) / stepMs) * stepMs;
  const minutesFrom = to - store.retention.minutesMs + 2 * MINUTE_MS;
  if (stepMs % HOUR_MS === 0 || from >= minutesFrom) {
    return [{ from: ending(from), to, step: step(stepMs) }];
  }
  const boundary = Math.min(to, Math.ceil(minutesFrom / HOUR_MS) * HOUR_MS);
  const ranges: Range[] = [];
  const hoursFrom = Math.floor(from / HOUR_MS) * HOUR_MS;
  if (boundary > hoursFrom) {
    ranges.push({ from: hoursFrom, to: boundary, step: step(HOUR_MS), spreadMs: stepMs });
  }
  // Less than a step may lie between the hours and the first step: left out, never read twice.
  if (to - boundary >= stepMs) ranges.push({ from: ending(boundary), to, step: step(stepMs) });
  return ranges;
}

/** `[start of the step, its length, its value]` as the stores answer them. */
type RawPoint = [at: number, stepMs: number, value: number | null];

/**
 * The points of every range, oldest first: those with a value whose step ends by `to` (a step
 * still under way is not history yet), placed at the end or the middle of their step.
 */
async function collect(
  ranges: readonly Range[],
  to: number,
  place: 'end' | 'middle',
  query: (range: Range) => Promise<RawPoint[]>,
): Promise<AlertHistoryPoint[]> {
  const points: AlertHistoryPoint[] = [];
  for (const range of ranges) {
    const rows = await query({ from: range.from, to: range.to, step: range.step });
    for (const [at, stepMs, value] of rows) {
      if (value === null || !Number.isFinite(value) || at + stepMs > to) continue;
      const each =
        range.spreadMs !== undefined && range.spreadMs < stepMs ? range.spreadMs : stepMs;
      for (let start = at; start + each <= at + stepMs; start += each) {
        points.push({ at: place === 'end' ? start + each : start + each / 2, value });
      }
    }
  }
  return points;
}

function includes(labels: Labels, where: Readonly<Record<string, string>>): boolean {
  for (const key in where) if (labels[key] !== where[key]) return false;
  return true;
}

/** Maps `items` with at most `limit` calls at a time; stops starting new ones once `signal` aborts. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal.aborted) {
      const i = next++;
      out[i] = await map(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out.filter((item) => item !== undefined);
}
