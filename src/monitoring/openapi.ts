import type { PackageInfo } from './info.js';

/** A JSON Schema (the OpenAPI 3.1 dialect, JSON Schema 2020-12). */
type Schema = Record<string, unknown>;

/** @internal One endpoint of the router: what the router registers and the document describes. */
export interface RouteSpec {
  method: 'get' | 'post';
  /** Hono syntax (`/tasks/dead/:id/retry`). */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** `false` for the endpoints served without auth (dashboard shell, liveness, readiness). */
  auth: boolean;
  /** Query parameters. */
  query?: { name: string; description: string; schema: Schema; required?: boolean }[];
  /** Responses other than the common errors: status -> [description, media type, schema]. */
  responses: Record<string, [string, string, Schema]>;
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = 'application/json';
const nullable = (type: string, extra: Schema = {}): Schema => ({ type: [type, 'null'], ...extra });
const num: Schema = { type: 'number' };
const int: Schema = { type: 'integer', minimum: 0 };
const str: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };
const time: Schema = { type: 'string', format: 'date-time' };
const obj = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({
  type: 'object',
  properties,
  required,
});
const arr = (items: Schema): Schema => ({ type: 'array', items });
const queue = {
  name: 'queue',
  description: 'The queue (defaults to the tasks module default queue).',
  schema: str,
};

/** @internal Every endpoint, in the order of the document. */
export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/',
    operationId: 'index',
    summary: 'Package, version and the list of endpoints.',
    tag: 'meta',
    auth: true,
    responses: { '200': ['The endpoints.', json, ref('Index')] },
  },
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    summary: 'Status of each component (Redis, database, task backend and workers, event loop).',
    tag: 'health',
    auth: true,
    responses: {
      '200': ['ok or degraded.', json, ref('Health')],
      '503': ['down: a critical component is down.', json, ref('Health')],
    },
  },
  {
    method: 'get',
    path: '/health/live',
    operationId: 'healthLive',
    summary: 'Liveness: the process answers.',
    tag: 'health',
    auth: false,
    responses: { '200': ['Alive.', json, ref('Probe')] },
  },
  {
    method: 'get',
    path: '/health/ready',
    operationId: 'healthReady',
    summary: 'Readiness: the instance is started and no critical dependency is down.',
    tag: 'health',
    auth: false,
    responses: {
      '200': ['Ready.', json, ref('Probe')],
      '503': ['Not ready.', json, ref('Probe')],
    },
  },
  {
    method: 'get',
    path: '/performance/summary',
    operationId: 'performanceSummary',
    summary: 'Every operation over every window, bottlenecks and system metrics.',
    tag: 'performance',
    auth: true,
    responses: { '200': ['The summary.', json, ref('PerformanceSummary')] },
  },
  {
    method: 'get',
    path: '/performance/realtime',
    operationId: 'performanceRealtime',
    summary:
      'Server-Sent Events: `event: snapshot` with `id: <seq>` and a MonitoringSnapshot as data every interval, `: heartbeat` comments in between. `Last-Event-ID` resumes the numbering.',
    tag: 'performance',
    auth: true,
    responses: {
      '200': [
        'The event stream; each `data:` line is a MonitoringSnapshot.',
        'text/event-stream',
        { type: 'string', contentSchema: ref('MonitoringSnapshot') },
      ],
      '503': ['Too many streams are open; see Retry-After.', json, ref('Error')],
    },
  },
  {
    method: 'get',
    path: '/database/performance',
    operationId: 'databasePerformance',
    summary: 'Query timings by statement fingerprint and the slowest recent queries.',
    tag: 'database',
    auth: true,
    query: [
      {
        name: 'window',
        description: 'The statistics window.',
        schema: { type: 'string', enum: ['1m', '5m', '15m', 'all'], default: '5m' },
      },
    ],
    responses: { '200': ['The statements.', json, ref('DatabasePerformance')] },
  },
  {
    method: 'get',
    path: '/cache/analytics',
    operationId: 'cacheAnalytics',
    summary: 'Hits, misses and latency per tier and namespace, codec and bus figures, warmers.',
    tag: 'cache',
    auth: true,
    responses: { '200': ['The analytics.', json, ref('CacheAnalytics')] },
  },
  {
    method: 'get',
    path: '/tasks/monitoring',
    operationId: 'tasksMonitoring',
    summary: 'Queues, workers, throughput, failure analysis and dead letters.',
    tag: 'tasks',
    auth: true,
    responses: {
      '200': ['The task figures.', json, ref('TasksMonitoring')],
      '501': ['The tasks module is not enabled.', json, ref('Error')],
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Every metric in the Prometheus text exposition format 0.0.4.',
    tag: 'meta',
    auth: true,
    responses: { '200': ['The metrics.', 'text/plain; version=0.0.4', str] },
  },
  {
    method: 'get',
    path: '/info',
    operationId: 'info',
    summary: 'Package, version, enabled modules, uptime and Node.js version.',
    tag: 'meta',
    auth: true,
    responses: { '200': ['The information.', json, ref('Info')] },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This document.',
    tag: 'meta',
    auth: true,
    responses: { '200': ['An OpenAPI 3.1 document.', json, { type: 'object' }] },
  },
  {
    method: 'get',
    path: '/dashboard',
    operationId: 'dashboard',
    summary: 'The dashboard page (it carries no data: it asks for a token on its first 401).',
    tag: 'dashboard',
    auth: false,
    responses: { '200': ['The page.', 'text/html', str] },
  },
  {
    method: 'get',
    path: '/dashboard/assets/:file',
    operationId: 'dashboardAsset',
    summary: 'A script, style sheet or font of the dashboard.',
    tag: 'dashboard',
    auth: false,
    responses: {
      '200': ['The file.', 'application/octet-stream', str],
      '304': ['Not modified (If-None-Match).', 'application/octet-stream', str],
    },
  },
  {
    method: 'get',
    path: '/security/monitoring',
    operationId: 'securityMonitoring',
    summary: 'Security events (501 until the security module is enabled).',
    tag: 'security',
    auth: true,
    responses: { '501': ['The security module is not enabled.', json, ref('Error')] },
  },
  {
    method: 'get',
    path: '/alerts',
    operationId: 'alerts',
    summary: 'Alerts (501 until the alerts module is enabled).',
    tag: 'alerts',
    auth: true,
    responses: { '501': ['The alerts module is not enabled.', json, ref('Error')] },
  },
  {
    method: 'post',
    path: '/tasks/dead/:id/retry',
    operationId: 'retryDeadTask',
    summary: 'Moves a dead task back to its queue.',
    tag: 'tasks',
    auth: true,
    query: [queue],
    responses: {
      '200': ['Retried.', json, ref('ActionResult')],
      '404': ['No dead task has this id.', json, ref('Error')],
      '501': ['The tasks module is not enabled.', json, ref('Error')],
    },
  },
  {
    method: 'post',
    path: '/tasks/dead/purge',
    operationId: 'purgeDeadTasks',
    summary: 'Removes the dead tasks of a queue (of every queue without `queue`).',
    tag: 'tasks',
    auth: true,
    query: [queue],
    responses: {
      '200': ['Purged.', json, ref('ActionResult')],
      '501': ['The tasks module is not enabled.', json, ref('Error')],
    },
  },
  {
    method: 'post',
    path: '/tasks/queues/:queue/pause',
    operationId: 'pauseQueue',
    summary: 'Stops workers of every process from taking tasks of the queue.',
    tag: 'tasks',
    auth: true,
    responses: {
      '200': ['Paused.', json, ref('ActionResult')],
      '501': ['The tasks module is not enabled.', json, ref('Error')],
    },
  },
  {
    method: 'post',
    path: '/tasks/queues/:queue/resume',
    operationId: 'resumeQueue',
    summary: 'Lets workers take tasks of the queue again.',
    tag: 'tasks',
    auth: true,
    responses: {
      '200': ['Resumed.', json, ref('ActionResult')],
      '501': ['The tasks module is not enabled.', json, ref('Error')],
    },
  },
  {
    method: 'post',
    path: '/cache/warmers/:name/run',
    operationId: 'runCacheWarmer',
    summary: 'Runs a registered cache warmer now.',
    tag: 'cache',
    auth: true,
    responses: {
      '200': ['The warmer ran.', json, ref('ActionResult')],
      '404': ['No warmer has this name.', json, ref('Error')],
      '500': ['The warmer failed (see the logs).', json, ref('Error')],
    },
  },
  {
    method: 'post',
    path: '/cache/tags/:tag/invalidate',
    operationId: 'invalidateCacheTag',
    summary: 'Removes every entry carrying the tag from every tier and every instance.',
    tag: 'cache',
    auth: true,
    query: [{ name: 'namespace', description: 'Only in this namespace.', schema: str }],
    responses: { '200': ['Invalidated.', json, ref('ActionResult')] },
  },
];

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

const queueSnapshot = obj({
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
});
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

const SCHEMAS: Record<string, Schema> = {
  Error: obj({ error: obj({ code: str, message: str }) }),
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
          enabled: builtFlag,
          backend: nullable('string'),
          queues: arr(queueSnapshot),
          workers: arr(workerSnapshot),
          throughput: taskThroughput,
          failures: arr(failureSnapshot),
          deadLetterFailures: arr(failureSnapshot),
          deadLetters: arr(deadLetter),
          readAt: time,
          stale: bool,
        }),
      ],
    },
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
  TasksMonitoring: obj({
    enabled: builtFlag,
    backend: nullable('string'),
    queues: arr(queueSnapshot),
    workers: arr(workerSnapshot),
    throughput: taskThroughput,
    failures: arr(failureSnapshot),
    deadLetterFailures: arr(failureSnapshot),
    deadLetters: arr(deadLetter),
  }),
  ActionResult: obj({ ok: bool }, ['ok']),
};

/** `/tasks/dead/:id/retry` -> `/tasks/dead/{id}/retry`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/**
 * @internal The OpenAPI 3.1 document of the router, with the paths as the router sees them (below
 * its mount point; `server` is the mount point when known).
 */
export function openApiDocument(
  info: PackageInfo,
  server: string | undefined,
  secured: boolean,
): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const route of ROUTES) {
    const path = toOpenApiPath(route.path);
    const parameters: Schema[] = [];
    for (const match of route.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)) {
      parameters.push({ name: match[1], in: 'path', required: true, schema: str });
    }
    for (const q of route.query ?? []) {
      parameters.push({
        name: q.name,
        in: 'query',
        required: q.required ?? false,
        description: q.description,
        schema: q.schema,
      });
    }
    const responses: Record<string, Schema> = {};
    for (const [status, [description, mediaType, schema]] of Object.entries(route.responses)) {
      responses[status] = { description, content: { [mediaType]: { schema } } };
    }
    if (route.auth && secured) {
      responses['401'] ??= errorResponse('Missing or invalid credentials.');
      responses['403'] ??= errorResponse('The auth hook refused these credentials.');
    }
    responses['500'] ??= errorResponse('Internal error (no details are exposed).');
    const operation: Schema = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      responses,
    };
    if (parameters.length > 0) operation.parameters = parameters;
    // Endpoints without auth opt out of the global requirement.
    if (!route.auth && secured) operation.security = [];
    paths[path] ??= {};
    paths[path][route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: `${info.name} monitoring`,
      version: info.version,
      description:
        'The monitoring endpoints of @revcopy/enterprise. Errors are `{ "error": { "code", "message" } }`; every response carries `x-request-id`.',
    },
    ...(server === undefined ? {} : { servers: [{ url: server }] }),
    ...(secured ? { security: [{ bearer: [] }] } : {}),
    paths,
    components: {
      schemas: SCHEMAS,
      ...(secured ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {}),
    },
  };
}

function errorResponse(description: string): Schema {
  return { description, content: { [json]: { schema: ref('Error') } } };
}
