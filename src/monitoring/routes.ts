import { ALERT_ACTION_ROUTES, ALERT_READ_ROUTES } from './alert-routes.js';
import { ANALYTICS_READ_ROUTES } from './analytics-routes.js';
import { SCOPE_PARAMETER } from './cluster-scope.js';
import { MAINTENANCE_ROUTES } from './maintenance-routes.js';
import { json, ref, str } from './openapi-builders.js';
import type { RouteSpec } from './route-spec.js';
import { SCHEDULE_ACTION_ROUTES, SCHEDULE_READ_ROUTES } from './schedule-routes.js';
import { SECURITY_ACTION_ROUTES, SECURITY_READ_ROUTES } from './security-routes.js';

export type { OperationId, RouteSpec } from './route-spec.js';

const queue = {
  name: 'queue',
  description: 'The queue (defaults to the tasks module default queue).',
  schema: str,
};

const scopeRefused: [string, string, ReturnType<typeof ref>] = [
  '`scope` is not `instance` or `cluster`, or `cluster` without a cluster view (`E_CLUSTER_NOT_CONFIGURED`); `error.field` is `scope`.',
  json,
  ref('Error'),
];
const clusterDown: [string, string, ReturnType<typeof ref>] = [
  'scope=cluster: Redis did not answer.',
  json,
  ref('Error'),
];

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
    summary:
      'Readiness: the instance is started, not shutting down, and no critical dependency is down.',
    tag: 'health',
    auth: false,
    responses: {
      '200': ['Ready.', json, ref('Probe')],
      '503': [
        'Not ready (starting, shutting down, or a critical dependency down).',
        json,
        ref('Probe'),
      ],
    },
  },
  {
    method: 'get',
    path: '/performance/summary',
    operationId: 'performanceSummary',
    summary:
      'Every operation over every window, bottlenecks and system metrics; with `scope=cluster`, every operation of the deployment (percentiles merged from all instances buckets) with each instance, and the instances alive.',
    tag: 'performance',
    auth: true,
    query: [SCOPE_PARAMETER],
    responses: {
      '200': [
        'The summary.',
        json,
        { oneOf: [ref('PerformanceSummary'), ref('ClusterPerformanceSummary')] },
      ],
      '400': scopeRefused,
      '503': clusterDown,
    },
  },
  {
    method: 'get',
    path: '/performance/realtime',
    operationId: 'performanceRealtime',
    summary:
      'Server-Sent Events: `event: snapshot` with `id: <seq>` and a MonitoringSnapshot as data every interval, `event: alert` with an AlertStreamEvent (no id) whenever an alert changes state, `event: security` with a SecurityStreamEvent (no id) for threats, limit changes, bans and score crossings (at most 10 a second, the rest counted), `: heartbeat` comments in between. `Last-Event-ID` resumes the numbering.',
    tag: 'performance',
    auth: true,
    responses: {
      '200': [
        'The event stream; the `data:` line of a snapshot is a MonitoringSnapshot, that of an alert event an AlertStreamEvent, that of a security event a SecurityStreamEvent.',
        'text/event-stream',
        {
          type: 'string',
          contentSchema: {
            oneOf: [ref('MonitoringSnapshot'), ref('AlertStreamEvent'), ref('SecurityStreamEvent')],
          },
        },
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
    summary:
      'Hits, misses and latency per tier and namespace, codec and bus figures, warmers; with `scope=cluster`, hits and misses summed over the instances alive, and each one.',
    tag: 'cache',
    auth: true,
    query: [SCOPE_PARAMETER],
    responses: {
      '200': [
        'The analytics.',
        json,
        { oneOf: [ref('CacheAnalytics'), ref('ClusterCacheAnalytics')] },
      ],
      '400': scopeRefused,
      '503': clusterDown,
    },
  },
  {
    method: 'get',
    path: '/tasks/monitoring',
    operationId: 'tasksMonitoring',
    summary:
      'Queues, workers, throughput, failure analysis and dead letters; with `scope=cluster`, throughput and totals summed over the instances alive, each one, and the instances (queues and dead letters are the shared backend).',
    tag: 'tasks',
    auth: true,
    query: [SCOPE_PARAMETER],
    responses: {
      '200': [
        'The task figures.',
        json,
        { oneOf: [ref('TasksMonitoring'), ref('ClusterTasksMonitoring')] },
      ],
      '400': scopeRefused,
      '503': clusterDown,
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
    path: '/docs',
    operationId: 'docs',
    summary:
      'This document rendered as a page (Swagger UI, shipped with the package; it carries no data: it reads `openapi.json` with the token it asks for on a 401).',
    tag: 'docs',
    auth: false,
    responses: {
      '200': ['The page.', 'text/html', str],
      '503': ['The page files are missing from this installation.', json, ref('Error')],
    },
  },
  {
    method: 'get',
    path: '/docs/assets/:file',
    operationId: 'docsAsset',
    summary: "A script, style sheet or licence of the `/docs` page (Swagger UI's bundle included).",
    tag: 'docs',
    auth: false,
    responses: {
      '200': ['The file.', 'application/octet-stream', str],
      '304': ['Not modified (If-None-Match).', 'application/octet-stream', str],
    },
  },
  ...SECURITY_READ_ROUTES,
  ...ANALYTICS_READ_ROUTES,
  ...SCHEDULE_READ_ROUTES,
  ...ALERT_READ_ROUTES,
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
  ...ALERT_ACTION_ROUTES,
  ...SECURITY_ACTION_ROUTES,
  ...SCHEDULE_ACTION_ROUTES,
  ...MAINTENANCE_ROUTES,
];
