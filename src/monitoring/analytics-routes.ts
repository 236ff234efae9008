// The metrics history and analytics endpoints of the route table: what the router registers and
// the document describes.
import { SCOPE_PARAMETER } from './cluster-scope.js';
import { int, json, ref, type Schema, str } from './openapi-builders.js';
import type { RouteSpec } from './route-spec.js';

const notEnabled = (module: string): [string, string, Schema] => [
  `The ${module} module is not enabled on this instance (not built yet).`,
  json,
  ref('Error'),
];
const badQuery: [string, string, Schema] = [
  'An invalid query parameter; `error.field` names it.',
  json,
  ref('Error'),
];
const unavailable: [string, string, Schema] = ['The store did not answer.', json, ref('Error')];
const time = (name: 'from' | 'to', fallback: string) => ({
  name,
  description: `A time: epoch milliseconds or ISO 8601. Default: ${fallback}.`,
  schema: str,
});

/** @internal The history and analytics endpoints (all read). */
export const ANALYTICS_READ_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/performance/history',
    operationId: 'performanceHistory',
    summary:
      "An operation's history (calls, errors, rate and exact percentiles merged from the minutes' histograms, per step), or a figure's with `metric` (`system.memory.heap_used`, `cache.hits`, `tasks.queue.waiting`...).",
    tag: 'performance',
    auth: true,
    query: [
      { name: 'operation', description: 'The operation (or give `metric`).', schema: str },
      { name: 'metric', description: 'A figure, instead of an operation.', schema: str },
      {
        name: 'labels',
        description:
          'Only label sets with these labels: `k=v,k2=v2`, or a JSON object `{"k":"v"}`.',
        schema: str,
      },
      time('from', 'one hour before `to`'),
      time('to', 'now'),
      {
        name: 'step',
        description: "The length of each point: seconds or `'5m'`, `'1h'`; whole minutes.",
        schema: { type: 'string', default: '1m' },
      },
      {
        ...SCOPE_PARAMETER,
        description:
          '`instance` (this instance history) or `cluster`: the deployment history kept by the cluster view, every instance merged, with `byInstance`.',
      },
    ],
    responses: {
      '200': [
        'The series.',
        json,
        {
          oneOf: [
            ref('HistorySeries'),
            ref('MetricHistorySeries'),
            ref('ClusterHistorySeries'),
            ref('ClusterMetricHistorySeries'),
          ],
        },
      ],
      '400': badQuery,
      '501': notEnabled('history'),
      '503': unavailable,
    },
  },
  {
    method: 'get',
    path: '/analytics/overview',
    operationId: 'analyticsOverview',
    summary:
      'Active users (day, week, month), daily active users of the last 30 days, event totals, top events, funnels defined and the tracking pipeline.',
    tag: 'analytics',
    auth: true,
    responses: {
      '200': ['The overview.', json, ref('AnalyticsOverview')],
      '501': notEnabled('analytics'),
      '503': unavailable,
    },
  },
  {
    method: 'get',
    path: '/analytics/events',
    operationId: 'analyticsEvents',
    summary: 'Event counts per hour or day over a range, with the top events.',
    tag: 'analytics',
    auth: true,
    query: [
      time('from', 'seven days before `to`'),
      time('to', 'now'),
      {
        name: 'step',
        description: 'Default: `hour` for ranges up to two days, else `day`.',
        schema: { type: 'string', enum: ['hour', 'day'] },
      },
      {
        name: 'events',
        description: 'Comma-separated event names to give series for (default: the top ones).',
        schema: str,
      },
      {
        name: 'limit',
        description: 'How many top events.',
        schema: { ...int, minimum: 1, default: 10 },
      },
    ],
    responses: {
      '200': ['The counts.', json, ref('AnalyticsEvents')],
      '400': badQuery,
      '501': notEnabled('analytics'),
      '503': unavailable,
    },
  },
  {
    method: 'get',
    path: '/analytics/funnels',
    operationId: 'analyticsFunnels',
    summary: 'Every funnel defined (or one, with `funnel`) over a range of start days.',
    tag: 'analytics',
    auth: true,
    query: [
      { name: 'funnel', description: 'Only this funnel.', schema: str },
      time('from', 'seven days before `to`'),
      time('to', 'now'),
    ],
    responses: {
      '200': ['The funnels.', json, ref('AnalyticsFunnels')],
      '400': badQuery,
      '501': notEnabled('analytics'),
      '503': unavailable,
    },
  },
  {
    method: 'get',
    path: '/analytics/retention',
    operationId: 'analyticsRetention',
    summary: 'Weekly retention cohorts: size and users back each week after.',
    tag: 'analytics',
    auth: true,
    query: [
      {
        name: 'weeks',
        description: 'How many weeks (default: the cohorts option, 12).',
        schema: { ...int, minimum: 1, maximum: 32 },
      },
      time('to', 'now'),
    ],
    responses: {
      '200': ['The cohorts.', json, ref('AnalyticsRetention')],
      '400': badQuery,
      '501': notEnabled('analytics'),
      '503': unavailable,
    },
  },
  {
    method: 'get',
    path: '/analytics/capacity',
    operationId: 'analyticsCapacity',
    summary:
      "When each watched resource (heap, RSS, event-loop delay and utilisation, every task queue's depth) reaches its limit: Holt's linear trend fitted on the metrics history, with the earliest and latest times its prediction interval allows.",
    tag: 'analytics',
    auth: true,
    query: [
      {
        name: 'lookback',
        description: "History the model is fitted on (`'6h'`, `'7d'`). Default `'24h'`.",
        schema: str,
      },
      {
        name: 'horizon',
        description: "How far ahead a crossing is looked for. Default `'30d'`.",
        schema: str,
      },
      {
        name: 'confidence',
        description: 'Of the prediction interval, 0.5 to 0.999. Default 0.95.',
        schema: { type: 'number', minimum: 0.5, maximum: 0.999 },
      },
    ],
    responses: {
      '200': ['The forecasts.', json, ref('CapacityReport')],
      '400': badQuery,
      '501': notEnabled('capacity'),
      '503': unavailable,
    },
  },
  {
    method: 'get',
    path: '/reports',
    operationId: 'reports',
    summary:
      'The reports defined: sections, period, formats, schedule, delivery targets and last run.',
    tag: 'reports',
    auth: true,
    responses: {
      '200': ['The reports.', json, ref('ReportList')],
      '501': notEnabled('reports'),
    },
  },
  {
    method: 'get',
    path: '/reports/:name',
    operationId: 'report',
    summary:
      'A report generated now over a range: JSON (ReportData), CSV, or a self-contained HTML page (inline SVG charts, no script).',
    tag: 'reports',
    auth: true,
    query: [
      time('from', '`to` minus the report period'),
      time('to', 'now'),
      {
        name: 'format',
        description: "One of the report's formats. Default: its first.",
        schema: { type: 'string', enum: ['html', 'json', 'csv'] },
      },
    ],
    responses: {
      '200': [
        'The report, in the format asked (`text/html`, `text/csv` or `application/json`).',
        json,
        ref('ReportData'),
      ],
      '400': [
        'An unknown report (`error.field` is `name`), a bad range (`from`, `to`) or a format the report does not offer (`format`).',
        json,
        ref('Error'),
      ],
      '501': notEnabled('reports'),
      '503': unavailable,
    },
  },
];
