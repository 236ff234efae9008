// The schemas of the history and analytics endpoints in the OpenAPI document, after
// src/analytics/history/types.ts and src/analytics/events/queries.ts.
import { arr, bool, int, nullable, num, obj, ref, type Schema, str } from './openapi-builders.js';

const epochMs: Schema = { type: 'number', description: 'Epoch milliseconds' };
const labels: Schema = { type: 'object', additionalProperties: str };
const seriesHeader = {
  labels,
  labelSets: { ...int, description: 'How many label sets the points merge' },
  from: epochMs,
  to: epochMs,
  stepMs: int,
  resolution: { type: 'string', enum: ['minute', 'hour'] },
};
const ms = nullable('number');
const eventCount = obj({ event: str, count: int });

/** @internal */
export const ANALYTICS_SCHEMAS: Record<string, Schema> = {
  HistorySeries: obj({
    ...seriesHeader,
    operation: str,
    points: arr(
      obj({
        at: epochMs,
        count: int,
        errors: int,
        errorRate: num,
        slow: int,
        rate: { ...num, description: 'Calls per second' },
        meanMs: ms,
        p50: ms,
        p90: ms,
        p95: ms,
        p99: ms,
        p999: ms,
        maxMs: ms,
      }),
    ),
  }),
  MetricHistorySeries: obj({
    ...seriesHeader,
    metric: str,
    points: arr(obj({ at: epochMs, samples: int, sum: num, mean: ms, min: ms, max: ms })),
  }),
  AnalyticsPipeline: obj(
    {
      tracked: int,
      written: int,
      buffered: int,
      dropped: { type: 'object', additionalProperties: int },
      storeDown: bool,
      storeErrors: int,
      outages: int,
      lastError: str,
      lastWriteAt: str,
      hashKey: { type: 'string', enum: ['option', 'env', 'random'] },
    },
    ['tracked', 'written', 'buffered', 'dropped', 'storeDown', 'storeErrors', 'outages', 'hashKey'],
  ),
  AnalyticsOverview: obj({
    at: str,
    activeUsers: obj({ day: int, week: int, month: int, standardError: num }),
    dailyActiveUsers: obj({ days: arr(str), users: arr(int) }),
    events: obj({ last24h: int, last7d: int }),
    topEvents: arr(eventCount),
    funnels: arr(str),
    pipeline: ref('AnalyticsPipeline'),
  }),
  AnalyticsEvents: obj({
    from: str,
    to: str,
    step: { type: 'string', enum: ['hour', 'day'] },
    buckets: arr(str),
    totals: arr(int),
    series: arr(obj({ event: str, counts: arr(int), total: int })),
    top: arr(eventCount),
    total: int,
  }),
  AnalyticsFunnel: obj({
    name: str,
    withinMs: int,
    from: str,
    to: str,
    steps: arr(obj({ event: str, users: int, conversion: num, fromPrevious: num })),
  }),
  AnalyticsFunnels: obj({ funnels: arr(ref('AnalyticsFunnel')) }),
  AnalyticsRetention: obj(
    {
      weeks: int,
      startEvent: str,
      returnEvent: str,
      cohorts: arr(
        obj({
          week: str,
          size: int,
          returned: arr(nullable('integer', { minimum: 0 })),
          rates: arr(ms),
        }),
      ),
    },
    ['weeks', 'cohorts'],
  ),
  CapacityReport: obj({
    at: str,
    lookbackMs: int,
    horizonMs: int,
    stepMs: int,
    confidence: num,
    model: { type: 'string', enum: ['holt-linear'] },
    resources: arr(
      obj(
        {
          name: str,
          metric: str,
          labels,
          unit: nullable('string'),
          limit: num,
          status: {
            type: 'string',
            enum: ['ok', 'warning', 'critical', 'exceeded', 'insufficient-data'],
          },
          current: ms,
          level: ms,
          trendPerHour: ms,
          utilisation: ms,
          reachesAt: nullable('string'),
          earliestAt: nullable('string'),
          latestAt: nullable('string'),
          points: int,
          observed: arr(arr(num)),
          forecast: arr(arr(num)),
        },
        [
          'name',
          'metric',
          'labels',
          'limit',
          'status',
          'current',
          'level',
          'trendPerHour',
          'utilisation',
          'reachesAt',
          'earliestAt',
          'latestAt',
          'points',
          'observed',
          'forecast',
        ],
      ),
    ),
  }),
  ReportList: obj({
    reports: arr(
      obj({
        name: str,
        title: str,
        sections: arr(str),
        periodMs: int,
        formats: arr({ type: 'string', enum: ['html', 'json', 'csv'] }),
        schedule: { oneOf: [{ type: 'null' }, obj({ cron: str, timezone: str }, ['cron'])] },
        deliver: arr(str),
        lastRun: {
          oneOf: [{ type: 'null' }, obj({ at: str, delivered: arr(str), failed: arr(str) })],
        },
      }),
    ),
  }),
  ReportData: obj({
    name: str,
    title: str,
    from: str,
    to: str,
    generatedAt: str,
    sections: arr(
      obj(
        {
          name: str,
          title: str,
          summary: str,
          figures: arr(obj({ label: str, value: {}, unit: str }, ['label', 'value'])),
          tables: arr(obj({ title: str, columns: arr(str), rows: arr(arr({})) })),
          charts: arr(
            obj(
              {
                title: str,
                unit: str,
                series: arr(obj({ name: str, points: arr(arr(nullable('number'))) })),
                threshold: obj({ label: str, value: num }),
              },
              ['title', 'series'],
            ),
          ),
          data: {},
          notes: arr(str),
          error: str,
        },
        ['name', 'title'],
      ),
    ),
  }),
};
