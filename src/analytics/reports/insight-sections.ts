// The built-in sections read from product analytics (events, active users, funnels) and from the
// capacity planner (when resources and queues reach their limits).
import type { CapacityReport } from '../capacity/types.js';
import type { EventsReport, FunnelReport, OverviewFigures } from '../events/queries.js';
import { round } from './history-reads.js';
import type { ReportChart, ReportContext, ReportSection, SectionContent } from './types.js';

/** What the analytics section reads: an instance's `analytics`. */
export interface ReportAnalytics {
  overview(): Promise<OverviewFigures>;
  events(query: { from: number; to: number; step?: 'hour' | 'day' }): Promise<EventsReport>;
  funnels(query: { from: number; to: number }): Promise<FunnelReport[]>;
}

/** What the capacity section reads: an instance's `capacity`. */
export interface ReportCapacity {
  forecast(query: { at: number }): Promise<CapacityReport>;
}

const DAY_MS = 86_400_000;

async function analytics(
  source: ReportAnalytics | undefined,
  ctx: ReportContext,
): Promise<SectionContent> {
  if (source === undefined) {
    return { notes: ['Product analytics is not enabled on this instance.'] };
  }
  const step = ctx.to - ctx.from > 2 * DAY_MS ? 'day' : 'hour';
  const [overview, events, funnels] = await Promise.all([
    source.overview(),
    source.events({ from: ctx.from, to: ctx.to, step }),
    source.funnels({ from: ctx.from, to: Math.max(ctx.from, ctx.to - 1) }),
  ]);
  const chart: ReportChart = {
    title: `Events per ${step}`,
    series: [
      {
        name: 'all events',
        points: events.buckets.map((b, i) => [Date.parse(b), events.totals[i] ?? 0]),
      },
      ...events.series.slice(0, 4).map((s) => ({
        name: s.event,
        points: events.buckets.map((b, i) => [Date.parse(b), s.counts[i] ?? 0] as [number, number]),
      })),
    ],
  };
  return {
    summary: `${events.total} events in this range; ${overview.activeUsers.week} users active over the last 7 days.`,
    figures: [
      { label: 'Events', value: events.total },
      { label: 'Active users today', value: overview.activeUsers.day },
      { label: 'Active users, 7 days', value: overview.activeUsers.week },
      { label: 'Active users, 30 days', value: overview.activeUsers.month },
    ],
    tables: [
      {
        title: 'Top events',
        columns: ['event', 'count'],
        rows: events.top.map((t) => [t.event, t.count]),
      },
      ...funnels.map((funnel) => ({
        title: `Funnel ${funnel.name} (${funnel.from} to ${funnel.to})`,
        columns: ['step', 'users', 'conversion %', 'from previous %'],
        rows: funnel.steps.map((s) => [
          s.event,
          s.users,
          round(s.conversion * 100),
          round(s.fromPrevious * 100),
        ]),
      })),
    ],
    charts: [chart],
    notes: [
      `Active users are HyperLogLog estimates (standard error ${round(overview.activeUsers.standardError * 100)} %), counted up to now rather than over the range.`,
    ],
  };
}

/** Bytes are shown in MB; other units as they are. */
const unitOf = (unit: string | undefined) =>
  unit === 'bytes' ? { scale: 1024 * 1024, unit: 'MB' } : { scale: 1, unit: unit ?? null };

const stamp = (iso: string | null) => (iso === null ? null : iso.slice(0, 16).replace('T', ' '));

const when = (iso: string | null) =>
  iso === null ? 'not within the horizon' : iso.slice(0, 16).replace('T', ' ');

async function capacity(
  source: ReportCapacity | undefined,
  ctx: ReportContext,
): Promise<SectionContent> {
  if (source === undefined) {
    return {
      notes: [
        'Capacity forecasts need the metrics history, which is not enabled on this instance.',
      ],
    };
  }
  const report = await source.forecast({ at: ctx.to });
  const label = (r: CapacityReport['resources'][number]) => {
    const labels = Object.entries(r.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return labels === '' ? r.name : `${r.name} {${labels}}`;
  };
  const atRisk = report.resources.filter(
    (r) => r.status === 'critical' || r.status === 'exceeded' || r.status === 'warning',
  );
  const charted = report.resources.filter((r) => r.observed.length > 0).slice(0, 6);
  return {
    summary:
      atRisk.length === 0
        ? `No watched resource is expected to reach its limit within ${Math.round(report.horizonMs / DAY_MS)} days.`
        : `${atRisk.length} resource(s) expected to reach their limit: ${atRisk.map((r) => `${label(r)} around ${when(r.reachesAt)} UTC`).join('; ')}.`,
    tables: [
      {
        title: `Forecasts (Holt's linear trend, ${Math.round(report.confidence * 100)} % interval)`,
        columns: [
          'resource',
          'status',
          'current',
          'limit',
          'unit',
          'use %',
          'trend per hour',
          'reaches limit (UTC)',
          'earliest',
          'latest',
        ],
        rows: report.resources.map((r) => {
          const { scale, unit } = unitOf(r.unit);
          return [
            label(r),
            r.status,
            r.current === null ? null : round(r.current / scale),
            round(r.limit / scale),
            unit,
            r.utilisation === null ? null : round(r.utilisation * 100),
            r.trendPerHour === null ? null : round(r.trendPerHour / scale),
            stamp(r.reachesAt),
            stamp(r.earliestAt),
            stamp(r.latestAt),
          ];
        }),
      },
    ],
    charts: charted.map((r) => {
      const { scale, unit } = unitOf(r.unit);
      const line = (points: [number, number][]) =>
        points.map(([t, v]) => [t, round(v / scale)] as [number, number | null]);
      return {
        title: `${label(r)}: observed and forecast${unit === null ? '' : ` (${unit})`}`,
        ...(unit === null ? {} : { unit }),
        series: [
          { name: 'observed', points: line(r.observed) },
          { name: 'forecast', points: line(r.forecast.map(([t, mean]) => [t, mean])) },
          { name: 'upper bound', points: line(r.forecast.map(([t, , , upper]) => [t, upper])) },
        ],
        threshold: { label: 'limit', value: r.limit / scale },
      };
    }),
    data: {
      lookbackMs: report.lookbackMs,
      horizonMs: report.horizonMs,
      stepMs: report.stepMs,
      model: report.model,
    },
  };
}

/** @internal The analytics and capacity sections. */
export function insightSections(sources: {
  analytics?: () => ReportAnalytics | undefined;
  capacity?: () => ReportCapacity | undefined;
}): ReportSection[] {
  return [
    {
      name: 'analytics',
      title: 'Product analytics',
      collect: (ctx) => analytics(sources.analytics?.(), ctx),
    },
    {
      name: 'capacity',
      title: 'Capacity forecast',
      collect: (ctx) => capacity(sources.capacity?.(), ctx),
    },
  ];
}
