import { ALERT_SCHEMAS } from './openapi-alert-schemas.js';
import { ANALYTICS_SCHEMAS } from './openapi-analytics-schemas.js';
import {
  arr,
  bool,
  int,
  nullable,
  num,
  obj,
  ref,
  type Schema,
  str,
  time,
} from './openapi-builders.js';
import { clusterSchemas } from './openapi-cluster-schemas.js';
import { MAINTENANCE_SCHEMAS } from './openapi-maintenance-schemas.js';
import { SCHEDULE_SCHEMAS } from './openapi-schedule-schemas.js';
import { SECURITY_SCHEMAS } from './openapi-security-schemas.js';

const windowStats = obj({
  count: int,
  errors: int,
  errorRate: num,
  slow: int,
  min: nullable('number'),
  max: nullable('number'),
  mean: nullable('number'),
  p50: nullable('number'),
  p95: nullable('number'),
  p99: nullable('number'),
  p999: nullable('number'),
  totalMs: num,
  throughput: num,
  coveredSeconds: num,
});

const labels: Schema = { type: 'object', additionalProperties: str };
/** `enabled` of the cache and task figures. */
const builtFlag: Schema = {
  type: 'boolean',
  description:
    'false while the instance has not built the module (monitoring never builds one); the figures are then empty',
};

const healthComponent = obj(
  {
    name: str,
    status: ref('HealthStatus'),
    critical: bool,
    message: str,
    latencyMs: nullable('number'),
    details: { type: 'object' },
  },
  ['name', 'status', 'critical', 'latencyMs'],
);

const rateLimitSnapshot: Schema = { ...obj({ limit: int, perMs: int }), type: ['object', 'null'] };
const groupsSnapshot = obj({
  total: int,
  waiting: int,
  active: int,
  rateLimit: rateLimitSnapshot,
  groupRateLimit: rateLimitSnapshot,
  groupMaxConcurrency: int,
  top: arr(
    obj({
      group: str,
      waiting: int,
      active: int,
      paused: bool,
      limitedUntil: nullable('string', { format: 'date-time' }),
      weight: num,
      maxConcurrency: int,
      throughput: num,
    }),
  ),
  other: obj({ groups: int, waiting: int, active: int }),
});
const queueSnapshotProperties = {
  name: str,
  waiting: int,
  delayed: int,
  blocked: int,
  active: int,
  completed: int,
  dead: int,
  paused: bool,
  oldestWaitingSeconds: nullable('number'),
  throughput: nullable('number'),
};
/** A queue; `groups` only when it has groups or limits. */
const queueSnapshot = obj(
  { ...queueSnapshotProperties, groups: groupsSnapshot },
  Object.keys(queueSnapshotProperties),
);
const workerSnapshot = obj(
  {
    id: str,
    queue: str,
    host: str,
    pid: int,
    concurrency: int,
    active: int,
    processed: int,
    failed: int,
    healthy: bool,
    reason: str,
    lastHeartbeatAt: time,
  },
  [
    'id',
    'queue',
    'host',
    'pid',
    'concurrency',
    'active',
    'processed',
    'failed',
    'healthy',
    'lastHeartbeatAt',
  ],
);
const taskThroughput = nullable('object', {
  properties: { completedPerSecond: num, failedPerSecond: num },
});
const failureSnapshot = obj({ name: str, error: str, count: int, lastAt: nullable('string') });
const deadLetter = obj({
  id: str,
  name: str,
  queue: str,
  error: str,
  attempts: int,
  finishedAt: nullable('string'),
});

/** The task figures of `/tasks/monitoring`, also those of the real-time snapshot. */
const taskFigures: Record<string, Schema> = {
  enabled: builtFlag,
  backend: nullable('string'),
  queues: arr(queueSnapshot),
  workers: arr(workerSnapshot),
  throughput: taskThroughput,
  failures: arr(failureSnapshot),
  deadLetterFailures: arr(failureSnapshot),
  deadLetters: arr(deadLetter),
};

/** @internal The schemas of the document's components, by name. */
export const SCHEMAS: Record<string, Schema> = {
  Error: obj({
    error: obj(
      {
        code: str,
        message: str,
        field: { type: 'string', description: 'The request field that is wrong, when one is' },
      },
      ['code', 'message'],
    ),
  }),
  HealthStatus: { type: 'string', enum: ['ok', 'degraded', 'down'] },
  HealthComponent: healthComponent,
  Health: obj({
    status: ref('HealthStatus'),
    checkedAt: time,
    components: arr(ref('HealthComponent')),
  }),
  Probe: obj({ status: str, reason: str }, ['status']),
  Index: obj({ name: str, version: str, endpoints: arr(obj({ method: str, path: str })) }),
  Info: obj({
    name: str,
    version: str,
    node: str,
    pid: int,
    uptimeSeconds: num,
    state: str,
    environment: nullable('string'),
    modules: {
      type: 'object',
      description:
        'Each module of the instance: true once enabled (the cache and tasks once built)',
      additionalProperties: bool,
    },
    moduleVersions: {
      type: 'object',
      description:
        'Each enabled module: its version and, in `runsOn`, the versions of the servers and packages it runs on where known (`redis`, `ioredis`, `postgresql`, `pg`, `sqlite`, `better-sqlite3`, `hono`); a server that did not answer within the health timeout is `null`',
      additionalProperties: obj({
        version: str,
        runsOn: { type: 'object', additionalProperties: nullable('string') },
      }),
    },
    settings: {
      type: 'object',
      description:
        "The instance's resolved settings (log level, Redis URL, performance, cache, tasks), with secrets redacted: a URL's password and query, values under keys that name a secret",
    },
  }),
  OperationStats: obj({
    name: str,
    labels,
    thresholdMs: nullable('number'),
    lastCallAt: nullable('string'),
    windows: obj({ '1m': windowStats, '5m': windowStats, '15m': windowStats, all: windowStats }),
  }),
  PerformanceSummary: obj({
    generatedAt: time,
    uptimeSeconds: num,
    thresholdMs: num,
    operations: arr(ref('OperationStats')),
    overflow: obj({ calls: int, maxMetrics: int }),
    bottlenecks: obj({
      window: str,
      byTotalTime: arr({ type: 'object' }),
      byLatency: arr({ type: 'object' }),
    }),
    system: nullable('object'),
  }),
  MonitoringSnapshot: obj({
    seq: int,
    time,
    uptimeSeconds: num,
    health: ref('Health'),
    system: obj({
      sampledAt: nullable('string'),
      cpu: obj({ percent: nullable('number') }),
      memory: obj({ rss: int, heapUsed: int, heapTotal: int, external: int }),
      eventLoop: obj({
        delayP50Ms: nullable('number'),
        delayP99Ms: nullable('number'),
        delayMaxMs: nullable('number'),
        utilization: nullable('number'),
      }),
    }),
    performance: obj({
      requests: obj({
        rate: num,
        count: int,
        p50: nullable('number'),
        p95: nullable('number'),
        p99: nullable('number'),
        errors: int,
        errorRate: num,
      }),
      operations: arr(
        obj({
          name: str,
          labels,
          count: int,
          errors: int,
          rate: num,
          mean: nullable('number'),
          p50: nullable('number'),
          p95: nullable('number'),
          p99: nullable('number'),
          max: nullable('number'),
        }),
      ),
    }),
    cache: {
      oneOf: [
        { type: 'null' },
        obj({
          enabled: builtFlag,
          hits: int,
          misses: int,
          hitRatio: num,
          tiers: arr(
            obj({
              name: str,
              hits: int,
              misses: int,
              hitRatio: num,
              errors: int,
              timeouts: int,
              circuit: { type: 'string', enum: ['closed', 'open', 'half-open'] },
              latencyP95Ms: nullable('number'),
            }),
          ),
          namespaces: arr(
            obj({
              name: str,
              hits: int,
              misses: int,
              hitRatio: num,
              staleServed: int,
              loaderErrors: int,
            }),
          ),
        }),
      ],
    },
    tasks: {
      oneOf: [
        { type: 'null' },
        obj({
          ...taskFigures,
          readAt: time,
          stale: bool,
        }),
      ],
    },
    alerts: { oneOf: [{ type: 'null' }, ref('AlertsSnapshot')] },
    security: { oneOf: [{ type: 'null' }, ref('SecuritySnapshot')] },
  }),
  DatabasePerformance: obj({
    window: { type: 'string', enum: ['1m', '5m', '15m', 'all'] },
    statements: arr(
      obj({
        statement: str,
        count: int,
        errors: int,
        errorRate: num,
        throughput: num,
        mean: nullable('number'),
        p50: nullable('number'),
        p95: nullable('number'),
        p99: nullable('number'),
        max: nullable('number'),
        totalMs: num,
      }),
    ),
    slowest: arr(obj({ statement: str, durationMs: num, error: bool, at: time })),
    overflowed: bool,
  }),
  CacheAnalytics: obj({
    enabled: builtFlag,
    hits: int,
    misses: int,
    hitRatio: num,
    tiers: arr({ type: 'object' }),
    namespaces: { type: 'object', additionalProperties: { type: 'object' } },
    codec: { type: 'object' },
    bus: nullable('object'),
    warmers: arr(str),
  }),
  TasksMonitoring: obj(taskFigures),
  ActionResult: obj({ ok: bool }, ['ok']),
  ...ALERT_SCHEMAS,
  ...SECURITY_SCHEMAS,
  ...ANALYTICS_SCHEMAS,
  ...SCHEDULE_SCHEMAS,
  ...clusterSchemas({ taskFigures, analytics: ANALYTICS_SCHEMAS }),
  ...MAINTENANCE_SCHEMAS,
};
