// The built-in sections read from the operations of the metrics history: performance (totals,
// throughput and latency over time), trends (this range against the one before), the slowest
// operations and the database statements by fingerprint.
import type { HistoryPoint } from '../history/types.js';
import {
  labelSets,
  mapLimited,
  operationNames,
  operationSeries,
  operationTotal,
  type ReportHistory,
  round,
} from './history-reads.js';
import type { ReportChart, ReportContext, ReportSection, SectionContent } from './types.js';

/** The operation database queries are recorded under (the performance module's). */
const DB_OPERATION = 'db.query';
const MAX_OPERATIONS = 200;
const MAX_STATEMENTS = 100;
const CHARTED = 5;

interface OperationTotal {
  name: string;
  point: HistoryPoint;
}

const NO_HISTORY: SectionContent = {
  notes: ['The metrics history is not enabled on this instance: there is nothing to report yet.'],
};

async function totals(history: ReportHistory, from: number, to: number): Promise<OperationTotal[]> {
  const names = operationNames(await history.series())
    .filter((name) => name !== DB_OPERATION)
    .slice(0, MAX_OPERATIONS);
  const points = await mapLimited(names, 8, (name) =>
    operationTotal(history, name, undefined, from, to),
  );
  return names
    .map((name, i) => ({ name, point: points[i]! }))
    .filter((o): o is OperationTotal => o.point !== null && o.point.count > 0)
    .sort((a, b) => b.point.count - a.point.count);
}

const percent = (value: number) => round(value * 100);

function operationRow({ name, point }: OperationTotal) {
  return [
    name,
    point.count,
    point.errors,
    percent(point.errorRate),
    round(point.rate),
    round(point.meanMs),
    round(point.p50),
    round(point.p95),
    round(point.p99),
    round(point.maxMs),
  ];
}

const OPERATION_COLUMNS = [
  'operation',
  'calls',
  'errors',
  'error %',
  'calls/s',
  'mean ms',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'max ms',
];

async function performance(
  history: ReportHistory | undefined,
  ctx: ReportContext,
): Promise<SectionContent> {
  if (history === undefined) return NO_HISTORY;
  const operations = await totals(history, ctx.from, ctx.to);
  if (operations.length === 0) return { notes: ['No operation was recorded in this range.'] };
  const calls = operations.reduce((sum, o) => sum + o.point.count, 0);
  const errors = operations.reduce((sum, o) => sum + o.point.errors, 0);
  const charted = operations.slice(0, CHARTED);
  const series = await mapLimited(charted, 4, (o) =>
    operationSeries(history, o.name, ctx.from, ctx.to, ctx.stepMs),
  );
  const charts: ReportChart[] = [
    {
      title: 'Throughput (calls per second)',
      unit: '/s',
      series: charted.map((o, i) => ({
        name: o.name,
        points: (series[i]?.points ?? []).map(
          (p) => [p.at, round(p.rate)] as [number, number | null],
        ),
      })),
    },
    {
      title: 'Latency p95 (ms)',
      unit: 'ms',
      series: charted.map((o, i) => ({
        name: o.name,
        points: (series[i]?.points ?? []).map(
          (p) => [p.at, round(p.p95)] as [number, number | null],
        ),
      })),
    },
  ];
  return {
    summary: `${calls} calls over ${operations.length} operations, ${errors} errors (${percent(calls === 0 ? 0 : errors / calls)} %).`,
    figures: [
      { label: 'Calls', value: calls },
      { label: 'Errors', value: errors },
      { label: 'Error rate', value: percent(calls === 0 ? 0 : errors / calls), unit: '%' },
      { label: 'Operations', value: operations.length },
      { label: 'Calls per second', value: round(calls / ((ctx.to - ctx.from) / 1000)), unit: '/s' },
    ],
    tables: [
      { title: 'Operations', columns: OPERATION_COLUMNS, rows: operations.map(operationRow) },
    ],
    charts,
  };
}

const change = (now: number | null, before: number | null) =>
  now === null || before === null || before === 0 ? null : round(((now - before) / before) * 100);

async function trends(
  history: ReportHistory | undefined,
  ctx: ReportContext,
): Promise<SectionContent> {
  if (history === undefined) return NO_HISTORY;
  const length = ctx.to - ctx.from;
  const current = await totals(history, ctx.from, ctx.to);
  const previous = new Map(
    (await totals(history, ctx.from - length, ctx.from)).map((o) => [o.name, o.point]),
  );
  const calls = current.reduce((sum, o) => sum + o.point.count, 0);
  const callsBefore = [...previous.values()].reduce((sum, p) => sum + p.count, 0);
  const rows = current.slice(0, 50).map(({ name, point }) => {
    const before = previous.get(name);
    return [
      name,
      point.count,
      before?.count ?? 0,
      change(point.count, before?.count ?? null),
      round(point.p95),
      round(before?.p95),
      change(point.p95, before?.p95 ?? null),
      percent(point.errorRate),
      before === undefined ? null : percent(before.errorRate),
    ];
  });
  const slower = rows.filter((row) => typeof row[6] === 'number' && row[6] >= 20).length;
  return {
    summary:
      callsBefore === 0
        ? 'No calls in the previous period to compare with.'
        : `Calls ${calls >= callsBefore ? 'up' : 'down'} ${Math.abs(change(calls, callsBefore) ?? 0)} % on the previous period; ${slower} operation(s) at least 20 % slower at p95.`,
    figures: [
      { label: 'Calls', value: calls },
      { label: 'Calls, previous period', value: callsBefore },
      { label: 'Change', value: change(calls, callsBefore), unit: '%' },
    ],
    tables: [
      {
        title: 'Against the previous period',
        columns: [
          'operation',
          'calls',
          'calls before',
          'calls change %',
          'p95 ms',
          'p95 ms before',
          'p95 change %',
          'error %',
          'error % before',
        ],
        rows,
      },
    ],
  };
}

async function slowest(
  history: ReportHistory | undefined,
  ctx: ReportContext,
): Promise<SectionContent> {
  if (history === undefined) return NO_HISTORY;
  const operations = (await totals(history, ctx.from, ctx.to))
    .filter((o) => o.point.p95 !== null)
    .sort((a, b) => (b.point.p95 ?? 0) - (a.point.p95 ?? 0))
    .slice(0, 10);
  if (operations.length === 0) return { notes: ['No operation was recorded in this range.'] };
  return {
    summary: `The slowest operation at p95 is ${operations[0]!.name} (${round(operations[0]!.point.p95)} ms).`,
    tables: [
      {
        title: 'Slowest operations by p95',
        columns: OPERATION_COLUMNS,
        rows: operations.map(operationRow),
      },
    ],
  };
}

async function database(
  history: ReportHistory | undefined,
  ctx: ReportContext,
): Promise<SectionContent> {
  if (history === undefined) return NO_HISTORY;
  const sets = labelSets(await history.series(), 'operation', DB_OPERATION).slice(
    0,
    MAX_STATEMENTS,
  );
  const points = await mapLimited(sets, 8, (labels) =>
    operationTotal(history, DB_OPERATION, labels, ctx.from, ctx.to),
  );
  const statements = sets
    .map((labels, i) => ({
      statement: labels.statement ?? JSON.stringify(labels),
      point: points[i],
    }))
    .filter(
      (s): s is { statement: string; point: HistoryPoint } => s.point != null && s.point.count > 0,
    )
    .sort((a, b) => b.point.count * (b.point.meanMs ?? 0) - a.point.count * (a.point.meanMs ?? 0));
  if (statements.length === 0) {
    return {
      notes: [
        'No database query was recorded in this range (monitorQuery / instrumentPg record them).',
      ],
    };
  }
  return {
    summary: `${statements.length} statement fingerprints; the most time went to: ${statements[0]!.statement}`,
    tables: [
      {
        title: 'Statements by total time',
        columns: ['statement', 'calls', 'errors', 'total ms', 'mean ms', 'p95 ms', 'p99 ms'],
        rows: statements.map(({ statement, point }) => [
          statement,
          point.count,
          point.errors,
          round((point.meanMs ?? 0) * point.count),
          round(point.meanMs),
          round(point.p95),
          round(point.p99),
        ]),
      },
    ],
  };
}

/** @internal The sections read from the operations of the history. */
export function performanceSections(history: () => ReportHistory | undefined): ReportSection[] {
  return [
    { name: 'performance', title: 'Performance', collect: (ctx) => performance(history(), ctx) },
    { name: 'trends', title: 'Trends', collect: (ctx) => trends(history(), ctx) },
    { name: 'slowest', title: 'Slowest operations', collect: (ctx) => slowest(history(), ctx) },
    { name: 'database', title: 'Database statements', collect: (ctx) => database(history(), ctx) },
  ];
}
