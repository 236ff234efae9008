import { Hono } from 'hono';
import { getCorrelationId, isValidCorrelationId, withContext } from '../core/context.js';
import { uuid } from '../core/uuid.js';
import { AlertFeed } from './alert-stream.js';
import { createAuthenticator, type MonitoringAuth } from './auth.js';
import { errorResponse } from './error-response.js';
import { alertHandlers } from './handlers/alerts.js';
import { analyticsHandlers } from './handlers/analytics.js';
import { cacheHandlers } from './handlers/cache.js';
import { dashboardHandlers } from './handlers/dashboard.js';
import { docsHandlers } from './handlers/docs.js';
import { healthHandlers } from './handlers/health.js';
import { maintenanceHandlers } from './handlers/maintenance.js';
import { metaHandlers } from './handlers/meta.js';
import { performanceHandlers } from './handlers/performance.js';
import { reportHandlers } from './handlers/reports.js';
import { scheduleHandlers } from './handlers/schedules.js';
import { securityHandlers } from './handlers/security.js';
import { taskHandlers } from './handlers/tasks.js';
import type { Handler, HandlerContext } from './handlers/types.js';
import { HealthChecker, type HealthOptions } from './health.js';
import { snapshotBuilder } from './live-snapshot.js';
import { defaultMonitoredInstance, type MonitoredInstance } from './monitored-instance.js';
import { RealtimeHub } from './realtime.js';
import { combineFeeds } from './realtime-feed.js';
import { safePath, stripBase, unmatchedRequest } from './route-matching.js';
import {
  checkRouterOptions,
  checkStrictTransportSecurity,
  integer,
  normalizeBasePath,
} from './router-config.js';
import { type OperationId, ROUTES } from './routes.js';
import { checkSameOrigin } from './same-origin.js';
import {
  API_CONTENT_SECURITY_POLICY,
  DASHBOARD_CONTENT_SECURITY_POLICY,
  REPORT_CONTENT_SECURITY_POLICY,
  securityHeaders,
} from './security-headers.js';
import { SecurityFeed } from './security-stream.js';
import { TaskFigures } from './task-figures.js';
import { TasksSource } from './tasks-source.js';
import { throttledLog } from './throttled-log.js';

/**
 * Options of {@link createMonitoringRouter}.
 *
 * @example
 * ```ts
 * const options: MonitoringRouterOptions = {
 *   auth: process.env.MONITORING_TOKEN,
 *   realtimeIntervalMs: 2000,
 *   maxStreams: 5,
 *   health: { critical: ['task-backend', 'redis'] },
 * };
 * ```
 */
export interface MonitoringRouterOptions {
  /** The instance to monitor. @defaultValue the default instance (`getEnterprise()`) */
  enterprise?: MonitoredInstance;
  /**
   * Protects every data endpoint and action: a bearer token (`Authorization: Bearer <token>`,
   * compared in constant time) or a hook `(request) => boolean | Promise<boolean>`. Required when
   * `NODE_ENV=production` unless `public: true`. The dashboard shell, the `/docs` page and their
   * assets (they carry no data), `/health/live` and `/health/ready` are always served without it.
   */
  auth?: MonitoringAuth;
  /**
   * Serve every endpoint without auth, in production too. Only for a router reachable from a
   * private network alone. It only lifts the production refusal: when `auth` is given as well,
   * `auth` still applies. @defaultValue false
   */
  public?: boolean;
  /** A snapshot on the real-time stream every this many milliseconds (at least 100). @defaultValue 1000 */
  realtimeIntervalMs?: number;
  /** A heartbeat comment on the real-time stream every this many milliseconds. @defaultValue 15000 */
  heartbeatMs?: number;
  /** Real-time streams open at once; more are answered 503 with `Retry-After`. @defaultValue 20 */
  maxStreams?: number;
  /**
   * The path the router is mounted under, when the host passes full paths to `fetch` (the
   * framework adapters strip their prefix, so leave it out with them).
   */
  basePath?: string;
  /** Health check settings: timeouts, event-loop thresholds, custom checks, critical components. */
  health?: HealthOptions;
  /**
   * `Strict-Transport-Security` on the router's responses: a value, or `false` for none (a host
   * reached over plain HTTP, or one whose proxy sets its own). The router's Content-Security-Policy
   * and `X-Frame-Options` are fixed: its pages never need anything looser.
   * @defaultValue 'max-age=31536000; includeSubDomains' (helmet's)
   */
  strictTransportSecurity?: string | false;
}

/**
 * The monitoring endpoints as a Web handler: `fetch(request)` answers with a `Response`.
 * `close()` ends the open real-time streams (and refuses new ones).
 *
 * @example
 * ```ts
 * const router = createMonitoringRouter({ auth: token });
 * const response = await router.fetch(new Request('http://localhost/health', {
 *   headers: { authorization: `Bearer ${token}` },
 * }));
 * server.on('close', () => router.close());
 * ```
 */
export interface MonitoringRouter {
  /** Answers one request. Never rejects: failures become JSON errors. */
  fetch(request: Request): Promise<Response>;
  /** Ends every open event stream and stops the stream timers. Idempotent. */
  close(): Promise<void>;
  /** Real-time streams open now and stream timers running (0 when no stream is open). */
  realtimeStatus(): { streams: number; timers: number };
  /** @internal The routes registered in the underlying router (method and Hono path). */
  readonly routes: readonly { method: string; path: string }[];
}

// The dashboard and the `/docs` page run under the same policy.
const DASHBOARD_PATHS = /^\/(dashboard|docs)(\/|$)/;
const REPORT_PATHS = /^\/reports\/[^/]+$/;

/**
 * Builds the monitoring router: health, performance (with a Server-Sent Events stream), database,
 * cache and task figures, alerts, the security report, Prometheus metrics, an OpenAPI 3.1 document,
 * the dashboard and the actions (retry a dead task, purge the dead letter queue, pause or resume a
 * queue, run a cache warmer, invalidate a cache tag, acknowledge an alert, create or expire a
 * silence, ban or unban a client). Throws `MonitoringConfigError` (`E_MONITORING_AUTH_REQUIRED`)
 * when `NODE_ENV=production` and neither `auth` nor `public: true` is given.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { getRequestListener } from '@hono/node-server';
 * import { createMonitoringRouter } from '@revcopy/enterprise/monitoring';
 *
 * const router = createMonitoringRouter({ auth: process.env.MONITORING_TOKEN });
 * createServer(getRequestListener((request) => router.fetch(request))).listen(9464);
 * // Any Web-standard host works the same way: Bun.serve({ fetch: router.fetch }), Deno.serve(...).
 * ```
 */
export function createMonitoringRouter(options: MonitoringRouterOptions = {}): MonitoringRouter {
  checkRouterOptions(options);
  const enterprise = options.enterprise ?? defaultMonitoredInstance();
  // `auth` always applies when given, `public: true` or not: a router told both fails closed rather
  // than serving everything to anyone because of a stray flag.
  const authenticate = createAuthenticator(options.auth);
  const intervalMs = integer(options.realtimeIntervalMs ?? 1000, 'realtimeIntervalMs', 100);
  const heartbeatMs = integer(options.heartbeatMs ?? 15_000, 'heartbeatMs', 10);
  const maxStreams = integer(options.maxStreams ?? 20, 'maxStreams', 1);
  const basePath = normalizeBasePath(options.basePath);
  const log = enterprise.logger.child({ module: 'monitoring' });
  const tasks = new TasksSource(enterprise);
  const health = new HealthChecker(enterprise, tasks, options.health);
  const healthTimeoutMs = options.health?.timeoutMs ?? 1000;
  const errorLog = throttledLog(log);
  const hub = new RealtimeHub({
    intervalMs,
    heartbeatMs,
    maxStreams,
    build: snapshotBuilder({
      enterprise,
      health,
      // The stream reads health from the checker's cache when it is recent enough: a dashboard
      // left open must not probe Redis every second.
      healthAgeMs: Math.max(5_000, intervalMs),
      // One statistics read at a time, however slow the backend: a tick never piles another on.
      taskFigures: new TaskFigures(tasks, healthTimeoutMs),
      onError: errorLog,
    }),
    onError: (error) => errorLog('a real-time snapshot could not be built', error),
    feed: combineFeeds(new AlertFeed(enterprise), new SecurityFeed(enterprise)),
  });

  const context: HandlerContext = {
    enterprise,
    tasks,
    health,
    hub,
    log,
    basePath,
    secured: authenticate !== undefined,
    readTimeoutMs: healthTimeoutMs,
    onReadError: errorLog,
  };
  const handlers: Record<OperationId, Handler> = {
    ...metaHandlers(context),
    ...healthHandlers(context),
    ...performanceHandlers(context),
    ...cacheHandlers(context),
    ...taskHandlers(context),
    ...scheduleHandlers(context),
    ...alertHandlers(context),
    ...securityHandlers(context),
    ...analyticsHandlers(context),
    ...maintenanceHandlers(context),
    ...reportHandlers(context),
    ...dashboardHandlers(),
    ...docsHandlers(context),
  };

  const app =
    basePath === '' ? new Hono({ strict: false }) : new Hono({ strict: false }).basePath(basePath);
  for (const route of ROUTES) {
    const handler = handlers[route.operationId];
    if (handler === undefined) throw new Error(`no handler for ${route.operationId}`);
    app.on(route.method.toUpperCase(), route.path, async (c) => {
      if (route.auth && authenticate !== undefined) await authenticate(c.req.raw);
      if (route.method !== 'get') checkSameOrigin(c.req.raw);
      return handler(c);
    });
  }
  const unmatched = unmatchedRequest(ROUTES, basePath);
  app.notFound((c) => unmatched(c.req.method, c.req.url));
  app.onError((error) => {
    throw error;
  });

  const strictTransportSecurity = options.strictTransportSecurity;
  checkStrictTransportSecurity(strictTransportSecurity);
  const apiHeaders = securityHeaders({
    contentSecurityPolicy: API_CONTENT_SECURITY_POLICY,
    strictTransportSecurity,
  });
  const reportHeaders = securityHeaders({
    contentSecurityPolicy: REPORT_CONTENT_SECURITY_POLICY,
    frameOptions: 'DENY',
    strictTransportSecurity,
  });
  const dashboardHeaders = securityHeaders({
    contentSecurityPolicy: DASHBOARD_CONTENT_SECURITY_POLICY,
    frameOptions: 'DENY',
    strictTransportSecurity,
  });

  // The security score weighs whether the monitoring endpoints are protected: the router tells each
  // security module it sees once, at its first request after the module was built.
  let notedSecurity: unknown;
  const noteHygiene = () => {
    try {
      const security = enterprise.peek('security');
      if (security === undefined || security === notedSecurity) return;
      notedSecurity = security;
      security.noteHygiene('monitoringProtected', authenticate !== undefined);
    } catch (error) {
      errorLog('the security module could not be told whether the router is protected', error);
    }
  };
  noteHygiene();

  const fetch = async (request: Request): Promise<Response> => {
    noteHygiene();
    const inbound = request.headers.get('x-request-id');
    const requestId = isValidCorrelationId(inbound) ? inbound : (getCorrelationId() ?? uuid());
    let response: Response;
    try {
      response = await withContext({ correlationId: requestId }, () => app.fetch(request));
    } catch (error) {
      response = errorResponse(error, log, requestId);
    }
    const path = stripBase(safePath(request.url), basePath) ?? '';
    const set = DASHBOARD_PATHS.test(path)
      ? dashboardHeaders
      : REPORT_PATHS.test(path) && response.headers.get('content-type')?.startsWith('text/html')
        ? reportHeaders
        : apiHeaders;
    try {
      applyHeaders(response.headers, set, requestId);
    } catch {
      // Immutable headers (a Response passed through from elsewhere): copy it.
      response = new Response(response.body, response);
      applyHeaders(response.headers, set, requestId);
    }
    return response;
  };

  let closed = false;
  return {
    fetch,
    close: async () => {
      if (closed) return;
      closed = true;
      hub.close();
    },
    realtimeStatus: () => ({ streams: hub.streams, timers: hub.timers }),
    routes: app.routes.map((route) => ({ method: route.method, path: route.path })),
  };
}

function applyHeaders(headers: Headers, set: Record<string, string>, requestId: string): void {
  for (const name in set) headers.set(name, set[name]!);
  headers.set('x-request-id', requestId);
  headers.delete('x-powered-by');
}
