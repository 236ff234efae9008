// The built-in sections read from the figures of the metrics history: system (memory, CPU, event
// loop), cache (hit ratio per tier and namespace) and tasks (throughput, failures, queue depth).
import type { MetricPoint } from '../history/types.js';
import {
  labelSets,
  mapLimited,
  metricSeries,
  metricTotal,
  type ReportHistory,
  round,
} from './history-reads.js';
import type { ReportChart, ReportContext, ReportSection, SectionContent } from './types.js';

const NO_HISTORY: SectionContent = {
  notes: ['The metrics history is not enabled on this instance: there is nothing to report yet.'],
};
const MB = 1024 * 1024;

const chartOf = async (
  history: ReportHistory,
  ctx: ReportContext,
  title: string,
  unit: string,
  lines: {
    name: string;
    metric: string;
    labels?: Record<string, string>;
    pick: (p: MetricPoint) => number | null;
    scale?: number;
  }[],
): Promise<ReportChart> => ({
  title,
  unit,
  series: await mapLimited(lines, 4, async (line) => {
    const series = await metricSeries(
      history,
      line.metric,
      line.labels,
      ctx.from,
      ctx.to,
      ctx.stepMs,
    );
    return {
      name: line.name,
      points: (series?.points ?? []).map((p) => {
        const value = p.samples === 0 ? null : line.pick(p);
        return [p.at, value === null ? null : round(value / (line.scale ?? 1))] as [
          number,
          number | null,
        ];
      }),
    };
  }),
});

async function system(
  history: ReportHistory | undefined,
  ctx: ReportContext,
): Promise<SectionContent> {
  if (history === undefined) return NO_HISTORY;
  const [heap, rss, delay, cpu] = await Promise.all(
    [
      'system.memory.heap_used',
      'system.memory.rss',
      'system.event_loop.delay_p99_ms',
      'system.cpu.percent',
    ].map((metric) => metricTotal(history, metric, undefined, ctx.from, ctx.to)),
  );
  if (heap === null || heap?.samples === 0)
    return { notes: ['No system figures were recorded in this range.'] };
  return {
    figures: [
      { label: 'Heap used, mean', value: round((heap?.mean ?? 0) / MB), unit: 'MB' },
      { label: 'Heap used, max', value: round((heap?.max ?? 0) / MB), unit: 'MB' },
      { label: 'RSS, max', value: round((rss?.max ?? 0) / MB), unit: 'MB' },
      { label: 'Event loop delay p99, max', value: round(delay?.max), unit: 'ms' },
      { label: 'CPU, mean', value: round(cpu?.mean), unit: '%' },
    ],
    charts: [
      await chartOf(history, ctx, 'Memory (MB)', 'MB', [
        { name: 'heap used', metric: 'system.memory.heap_used', pick: (p) => p.mean, scale: MB },
        { name: 'rss', metric: 'system.memory.rss', pick: (p) => p.mean, scale: MB },
      ]),
      await chartOf(history, ctx, 'Event loop delay (ms)', 'ms', [
        { name: 'p99, mean', metric: 'system.event_loop.delay_p99_ms', pick: (p) => p.mean },
        { name: 'max', metric: 'system.event_loop.delay_max_ms', pick: (p) => p.max },
      ]),
    ],
  };
}

const ratio = (hits: number, misses: number) =>
  hits + misses === 0 ? null : round((hits / (hits + misses)) * 100);

async function cache(
  history: ReportHistory | undefined,
  ctx: ReportContext,
): Promise<SectionContent> {
  if (history === undefined) return NO_HISTORY;
  const [hits, misses] = await Promise.all([
    metricTotal(history, 'cache.hits', undefined, ctx.from, ctx.to),
    metricTotal(history, 'cache.misses', undefined, ctx.from, ctx.to),
  ]);
  if (hits === null && misses === null)
    return { notes: ['No cache figures were recorded in this range.'] };
  const known = await history.series();
  const breakdown = async (kind: 'tier' | 'namespace') => {
    const sets = labelSets(known, 'metric', `cache.${kind}.hits`).slice(0, 50);
    return mapLimited(sets, 8, async (labels) => {
      const [h, m] = await Promise.all([
        metricTotal(history, `cache.${kind}.hits`, labels, ctx.from, ctx.to),
        metricTotal(history, `cache.${kind}.misses`, labels, ctx.from, ctx.to),
      ]);
      const hitCount = h?.sum ?? 0;
      const missCount = m?.sum ?? 0;
      return [labels[kind] ?? '', hitCount, missCount, ratio(hitCount, missCount)];
    });
  };
  const [tiers, namespaces] = await Promise.all([breakdown('tier'), breakdown('namespace')]);
  const hitSeries = await metricSeries(
    history,
    'cache.hits',
    undefined,
    ctx.from,
    ctx.to,
    ctx.stepMs,
  );
  const missSeries = await metricSeries(
    history,
    'cache.misses',
    undefined,
    ctx.from,
    ctx.to,
    ctx.stepMs,
  );
  const total = { hits: hits?.sum ?? 0, misses: misses?.sum ?? 0 };
  return {
    summary: `Hit ratio ${ratio(total.hits, total.misses) ?? '-'} % over ${total.hits + total.misses} lookups.`,
    figures: [
      { label: 'Hits', value: total.hits },
      { label: 'Misses', value: total.misses },
      { label: 'Hit ratio', value: ratio(total.hits, total.misses), unit: '%' },
    ],
    tables: [
      { title: 'By tier', columns: ['tier', 'hits', 'misses', 'hit %'], rows: tiers },
      {
        title: 'By namespace',
        columns: ['namespace', 'hits', 'misses', 'hit %'],
        rows: namespaces,
      },
    ],
    charts: [
      {
        title: 'Hit ratio (%)',
        unit: '%',
        series: [
          {
            name: 'hit ratio',
            points: (hitSeries?.points ?? []).map((p, i) => [
              p.at,
              ratio(p.sum, missSeries?.points[i]?.sum ?? 0),
            ]),
          },
        ],
      },
    ],
  };
}

async function tasks(
  history: ReportHistory | undefined,
  ctx: ReportContext,
): Promise<SectionContent> {
  if (history === undefined) return NO_HISTORY;
  const counters = await Promise.all(
    ['completed', 'failed', 'retried', 'dead'].map((field) =>
      metricTotal(history, `tasks.${field}`, undefined, ctx.from, ctx.to),
    ),
  );
  const queues = labelSets(await history.series(), 'metric', 'tasks.queue.waiting').slice(0, 20);
  if (counters.every((c) => c === null) && queues.length === 0) {
    return { notes: ['No task figures were recorded in this range.'] };
  }
  const [completed, failed, retried, dead] = counters.map((c) => c?.sum ?? 0) as [
    number,
    number,
    number,
    number,
  ];
  const rows = await mapLimited(queues, 8, async (labels) => {
    const [waiting, deadNow] = await Promise.all([
      metricTotal(history, 'tasks.queue.waiting', labels, ctx.from, ctx.to),
      metricTotal(history, 'tasks.queue.dead', labels, ctx.from, ctx.to),
    ]);
    return [labels.queue ?? '', round(waiting?.mean), waiting?.max ?? null, deadNow?.max ?? null];
  });
  return {
    summary: `${completed} tasks completed, ${failed} failed, ${dead} dead-lettered.`,
    figures: [
      { label: 'Completed', value: completed },
      { label: 'Failed', value: failed },
      { label: 'Retried', value: retried },
      { label: 'Dead-lettered', value: dead },
    ],
    tables: [
      { title: 'Queues', columns: ['queue', 'waiting, mean', 'waiting, max', 'dead, max'], rows },
    ],
    charts: [
      await chartOf(
        history,
        ctx,
        'Queue depth (waiting tasks)',
        'tasks',
        queues.map((labels) => ({
          name: labels.queue ?? '',
          metric: 'tasks.queue.waiting',
          labels,
          pick: (p) => p.max,
        })),
      ),
      await chartOf(history, ctx, 'Tasks per step', 'tasks', [
        { name: 'completed', metric: 'tasks.completed', pick: (p) => p.sum },
        { name: 'failed', metric: 'tasks.failed', pick: (p) => p.sum },
      ]),
    ],
  };
}

/** @internal The sections read from the figures of the history. */
export function figureSections(history: () => ReportHistory | undefined): ReportSection[] {
  return [
    { name: 'system', title: 'System', collect: (ctx) => system(history(), ctx) },
    { name: 'cache', title: 'Cache', collect: (ctx) => cache(history(), ctx) },
    { name: 'tasks', title: 'Tasks', collect: (ctx) => tasks(history(), ctx) },
  ];
}
