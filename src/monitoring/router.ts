import { type Context, Hono } from 'hono';
import { getCorrelationId, isValidCorrelationId, withContext } from '../core/context.js';
import type { Logger } from '../core/logger.js';
import { uuid } from '../core/uuid.js';
import { type Enterprise, getEnterprise } from '../enterprise.js';
import type { WindowName } from '../performance/types.js';
import { createAuthenticator, type MonitoringAuth } from './auth.js';
import { getDashboardAsset } from './dashboard/assets.js';
import { MonitoringConfigError, MonitoringRequestError } from './errors.js';
import { HealthChecker, type HealthOptions } from './health.js';
import { packageInfo } from './info.js';
import { openApiDocument, ROUTES, type RouteSpec } from './openapi.js';
import { databasePerformance } from './query-monitor.js';
import { RealtimeHub } from './realtime.js';
import {
  API_CONTENT_SECURITY_POLICY,
  DASHBOARD_CONTENT_SECURITY_POLICY,
  securityHeaders,
} from './security-headers.js';
import {
  type CacheSnapshot,
  disabledCacheAnalytics,
  disabledCacheSnapshot,
  disabledTasksSnapshot,
  type MonitoringSnapshot,
  toCacheSnapshot,
  toPerformanceSnapshot,
  toSystemSnapshot,
} from './snapshot.js';
import { TaskFigures } from './task-figures.js';
import { TasksSource } from './tasks-source.js';

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
  enterprise?: Enterprise;
  /**
   * Protects every data endpoint and action: a bearer token (`Authorization: Bearer <token>`,
   * compared in constant time) or a hook `(request) => boolean | Promise<boolean>`. Required when
   * `NODE_ENV=production` unless `public: true`. The dashboard shell and its assets,
   * `/health/live` and `/health/ready` are always served without it.
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

const WINDOWS: readonly WindowName[] = ['1m', '5m', '15m', 'all'];
const DASHBOARD_PATHS = /^\/dashboard(\/|$)/;
const JSON_TYPE = 'application/json; charset=utf-8';
const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Builds the monitoring router: health, performance (with a Server-Sent Events stream), database,
 * cache and task figures, Prometheus metrics, an OpenAPI 3.1 document, the dashboard and the
 * actions (retry a dead task, purge the dead letter queue, pause or resume a queue, run a cache
 * warmer, invalidate a cache tag). Throws `MonitoringConfigError` (`E_MONITORING_AUTH_REQUIRED`)
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
  if (options === null || typeof options !== 'object') {
    throw new MonitoringConfigError('E_MONITORING_CONFIG', 'options must be an object', {
      option: 'options',
    });
  }
  if (
    options.auth === undefined &&
    options.public !== true &&
    process.env.NODE_ENV === 'production'
  ) {
    throw new MonitoringConfigError(
      'E_MONITORING_AUTH_REQUIRED',
      'the monitoring router refuses to start without auth when NODE_ENV=production: pass `auth` (a token or a hook), or `public: true` for a router only reachable from a private network',
      { nodeEnv: 'production' },
    );
  }
  const enterprise = options.enterprise ?? getEnterprise();
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
  // The stream reads health from the checker's cache when it is recent enough: a dashboard left
  // open must not probe Redis every second.
  const snapshotHealthAgeMs = Math.max(5_000, intervalMs);
  // One statistics read at a time, however slow the backend: a tick never piles another on.
  const streamFigures = new TaskFigures(tasks, healthTimeoutMs);
  const errorLog = throttledLog(log);

  const build = async (): Promise<Omit<MonitoringSnapshot, 'seq'>> => {
    const [healthReport, taskFigures] = await Promise.all([
      health.check(snapshotHealthAgeMs),
      streamFigures.read().catch((error: unknown) => {
        errorLog('task figures could not be read for the snapshot', error);
        return null;
      }),
    ]);
    return {
      time: new Date().toISOString(),
      uptimeSeconds: process.uptime(),
      health: healthReport,
      system: toSystemSnapshot(enterprise.performance.system()),
      performance: toPerformanceSnapshot(enterprise.performance),
      cache: cacheSnapshot(enterprise),
      tasks: taskFigures,
    };
  };
  const hub = new RealtimeHub({
    intervalMs,
    heartbeatMs,
    maxStreams,
    build,
    onError: (error) => errorLog('a real-time snapshot could not be built', error),
  });

  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers },
    });

  const handlers: Record<string, (c: Context) => Response | Promise<Response>> = {
    index: () =>
      json({
        ...packageInfo(),
        endpoints: ROUTES.map((route) => ({
          method: route.method.toUpperCase(),
          path: route.path,
        })),
      }),
    health: async () => {
      const report = await health.check();
      return json(report, report.status === 'down' ? 503 : 200);
    },
    healthLive: () => json({ status: 'ok' }),
    healthReady: async () => {
      if (enterprise.state !== 'started') {
        return json({ status: 'not-ready', reason: `instance is ${enterprise.state}` }, 503);
      }
      const report = await health.check();
      if (report.status === 'down') {
        return json({ status: 'not-ready', reason: 'a critical dependency is down' }, 503);
      }
      return json({ status: 'ready' });
    },
    performanceSummary: () => json(enterprise.performance.summary()),
    performanceRealtime: (c) => {
      if (c.req.raw.method === 'HEAD') {
        return new Response(null, {
          headers: {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache, no-transform',
          },
        });
      }
      return hub.open(c.req.raw);
    },
    databasePerformance: (c) => {
      const window = (c.req.query('window') ?? '5m') as WindowName;
      if (!WINDOWS.includes(window)) {
        throw new MonitoringRequestError(
          400,
          'E_BAD_REQUEST',
          `window must be one of ${WINDOWS.join(', ')}`,
        );
      }
      return json(databasePerformance(enterprise, window));
    },
    cacheAnalytics: () => {
      const cache = enterprise.peek('cache');
      if (cache === undefined) return json(disabledCacheAnalytics());
      return json({ enabled: true, ...cache.analytics(), warmers: cache.warmers() });
    },
    tasksMonitoring: async () => {
      if (!tasks.enabled) {
        const { readAt: _readAt, stale: _stale, ...figures } = disabledTasksSnapshot();
        return json(figures);
      }
      const [overview, deadLetters] = await Promise.all([tasks.overview(), tasks.deadLetters(50)]);
      return json({ enabled: true, ...overview, deadLetters });
    },
    metrics: () =>
      new Response(enterprise.performance.toPrometheus(), {
        headers: { 'content-type': PROMETHEUS_TYPE, 'cache-control': 'no-store' },
      }),
    info: () =>
      json({
        ...packageInfo(),
        node: process.version,
        pid: process.pid,
        uptimeSeconds: process.uptime(),
        state: enterprise.state,
        environment: process.env.NODE_ENV ?? null,
        modules: {
          performance: true,
          // Built modules only: a module the process has not used yet is not observed.
          cache: enterprise.peek('cache') !== undefined,
          tasks: tasks.enabled,
          monitoring: true,
          security: false,
          alerts: false,
        },
      }),
    openapi: () =>
      // Without a basePath the router does not know where the host mounted it: '.' is the
      // document's own directory, so clients call `<mount>/health`, not `/health` at the root.
      json(openApiDocument(packageInfo(), basePath || '.', authenticate !== undefined)),
    dashboard: (c) =>
      // The page's links are relative to `<mount>/dashboard`: send `<mount>/dashboard/` there.
      new URL(c.req.url).pathname.endsWith('/')
        ? new Response(null, { status: 308, headers: { location: '../dashboard' } })
        : serveAsset(c, ''),
    dashboardAsset: (c) => serveAsset(c, c.req.param('file') ?? ''),
    securityMonitoring: () => {
      throw new MonitoringRequestError(
        501,
        'E_MODULE_NOT_ENABLED',
        'the security module is not enabled on this instance',
      );
    },
    alerts: () => {
      throw new MonitoringRequestError(
        501,
        'E_MODULE_NOT_ENABLED',
        'the alerts module is not enabled on this instance',
      );
    },
    retryDeadTask: async (c) => {
      const id = c.req.param('id') ?? '';
      await tasks.retryDead(id, c.req.query('queue'));
      log.info({ action: 'retry-dead-task', id }, 'dead task retried from the monitoring router');
      return json({ ok: true, id });
    },
    purgeDeadTasks: async (c) => {
      const queue = c.req.query('queue');
      const removed = await tasks.purgeDead(queue);
      log.info({ action: 'purge-dead-tasks', queue, removed }, 'dead letter queue purged');
      return json({ ok: true, queue: queue ?? null, removed });
    },
    pauseQueue: async (c) => {
      const queue = c.req.param('queue') ?? '';
      await tasks.pause(queue);
      log.info({ action: 'pause-queue', queue }, 'queue paused from the monitoring router');
      return json({ ok: true, queue, paused: true });
    },
    resumeQueue: async (c) => {
      const queue = c.req.param('queue') ?? '';
      await tasks.resume(queue);
      log.info({ action: 'resume-queue', queue }, 'queue resumed from the monitoring router');
      return json({ ok: true, queue, paused: false });
    },
    runCacheWarmer: async (c) => {
      const name = c.req.param('name') ?? '';
      // Warmers are registered on a built cache: an unbuilt one has none, and is not built to say so.
      const cache = enterprise.peek('cache');
      if (cache === undefined || !cache.warmers().includes(name)) {
        throw new MonitoringRequestError(404, 'E_NOT_FOUND', `no cache warmer is named "${name}"`);
      }
      const [result] = await cache.warm(name);
      if (result === undefined || !result.ok) {
        throw new MonitoringRequestError(
          500,
          'E_ACTION_FAILED',
          `the cache warmer "${name}" failed; see the logs`,
        );
      }
      log.info({ action: 'run-cache-warmer', name }, 'cache warmer run from the monitoring router');
      return json({ ok: true, name, durationMs: result.durationMs });
    },
    invalidateCacheTag: async (c) => {
      const tag = c.req.param('tag') ?? '';
      const namespace = c.req.query('namespace');
      await enterprise.cache.invalidateTags([tag], namespace === undefined ? {} : { namespace });
      log.info({ action: 'invalidate-cache-tag', tag, namespace }, 'cache tag invalidated');
      return json({ ok: true, tag, namespace: namespace ?? null });
    },
  };

  const app =
    basePath === '' ? new Hono({ strict: false }) : new Hono({ strict: false }).basePath(basePath);
  for (const route of ROUTES) {
    const handler = handlers[route.operationId];
    if (handler === undefined) throw new Error(`no handler for ${route.operationId}`);
    app.on(route.method.toUpperCase(), route.path, async (c) => {
      if (route.auth && authenticate !== undefined) await authenticate(c.req.raw);
      if (route.method === 'post') checkSameOrigin(c.req.raw);
      return handler(c);
    });
  }
  const matchers = ROUTES.map((route) => ({ route, pattern: routePattern(route) }));
  app.notFound((c) => {
    const path = stripBase(new URL(c.req.url).pathname, basePath);
    const allowed = new Set<string>();
    for (const { route, pattern } of matchers) {
      if (path !== undefined && pattern.test(path)) {
        allowed.add(route.method.toUpperCase());
        if (route.method === 'get') allowed.add('HEAD');
      }
    }
    if (allowed.size > 0) {
      throw new MonitoringRequestError(
        405,
        'E_METHOD_NOT_ALLOWED',
        `${c.req.method} is not allowed here; use ${[...allowed].join(', ')}`,
        { allow: [...allowed].join(', ') },
      );
    }
    throw new MonitoringRequestError(404, 'E_NOT_FOUND', 'no monitoring endpoint at this path');
  });
  app.onError((error) => {
    throw error;
  });

  const strictTransportSecurity = options.strictTransportSecurity;
  if (
    strictTransportSecurity !== undefined &&
    strictTransportSecurity !== false &&
    (typeof strictTransportSecurity !== 'string' || !/^max-age=\d+/.test(strictTransportSecurity))
  ) {
    throw new MonitoringConfigError(
      'E_MONITORING_CONFIG',
      `strictTransportSecurity=${String(strictTransportSecurity)} is invalid: expected false or a value starting with max-age=<seconds>`,
      { option: 'strictTransportSecurity', value: strictTransportSecurity },
    );
  }
  const apiHeaders = securityHeaders({
    contentSecurityPolicy: API_CONTENT_SECURITY_POLICY,
    strictTransportSecurity,
  });
  const dashboardHeaders = securityHeaders({
    contentSecurityPolicy: DASHBOARD_CONTENT_SECURITY_POLICY,
    frameOptions: 'DENY',
    strictTransportSecurity,
  });

  const fetch = async (request: Request): Promise<Response> => {
    const inbound = request.headers.get('x-request-id');
    const requestId = isValidCorrelationId(inbound) ? inbound : (getCorrelationId() ?? uuid());
    let response: Response;
    try {
      response = await withContext({ correlationId: requestId }, () => app.fetch(request));
    } catch (error) {
      response = errorResponse(error, log, requestId, json);
    }
    const path = stripBase(safePath(request.url), basePath) ?? '';
    const set = DASHBOARD_PATHS.test(path) ? dashboardHeaders : apiHeaders;
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

/** A dashboard file with its caching headers; `If-None-Match` answers 304. */
function serveAsset(c: Context, file: string): Response {
  const asset = getDashboardAsset(file);
  if (asset === undefined) {
    throw new MonitoringRequestError(404, 'E_NOT_FOUND', `no dashboard file is named "${file}"`);
  }
  const etag = `"${asset.etag}"`;
  // The page is revalidated on every load; the assets it links carry `?v=<etag>`, so they may be
  // cached for a year without ever being stale.
  const cacheControl = file === '' ? 'no-cache' : 'public, max-age=31536000, immutable';
  const headers = { etag, 'cache-control': cacheControl };
  const match = c.req.header('if-none-match');
  const matches = match?.split(',').some((tag) => [etag, `W/${etag}`].includes(tag.trim()));
  if (matches === true) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(asset.body, {
    headers: { 'content-type': asset.contentType, ...headers },
  });
}

function cacheSnapshot(enterprise: Enterprise): CacheSnapshot | null {
  if (enterprise.state === 'stopping' || enterprise.state === 'stopped') return null;
  const cache = enterprise.peek('cache');
  if (cache === undefined) return disabledCacheSnapshot();
  try {
    return toCacheSnapshot(cache.analytics());
  } catch {
    return null;
  }
}

/**
 * Refuses actions a browser sends from another site: a page elsewhere must not be able to make a
 * dashboard user's browser purge a queue. `Sec-Fetch-Site` decides when the browser sends it;
 * otherwise a present `Origin` must name the request's host.
 */
function checkSameOrigin(request: Request): void {
  const site = request.headers.get('sec-fetch-site');
  if (site !== null) {
    if (site === 'same-origin' || site === 'none') return;
    throw new MonitoringRequestError(
      403,
      'E_FORBIDDEN',
      'actions may not be sent from another site',
    );
  }
  const origin = request.headers.get('origin');
  if (origin === null || origin === 'null') return;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new MonitoringRequestError(403, 'E_FORBIDDEN', 'the Origin header is invalid');
  }
  const hosts = [
    request.headers.get('host'),
    request.headers.get('x-forwarded-host'),
    safeHost(request.url),
  ];
  if (!hosts.includes(originHost)) {
    throw new MonitoringRequestError(
      403,
      'E_FORBIDDEN',
      'actions may not be sent from another site',
    );
  }
}

/** The JSON error answer of `error`; anything but a deliberate error is a 500 without details. */
function errorResponse(
  error: unknown,
  log: Logger,
  requestId: string,
  json: (body: unknown, status?: number, headers?: Record<string, string>) => Response,
): Response {
  if (error instanceof MonitoringRequestError) {
    return json({ error: { code: error.code, message: error.message } }, error.status, {
      ...error.headers,
    });
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof code === 'string' && typeof message === 'string' && code.startsWith('E_')) {
    if (code === 'E_INVALID_ARGUMENT') {
      return json({ error: { code: 'E_BAD_REQUEST', message } }, 400);
    }
    if (code === 'E_LIFECYCLE') {
      return json({ error: { code: 'E_UNAVAILABLE', message } }, 503);
    }
    if (/NOT_FOUND|UNKNOWN/.test(code)) {
      return json({ error: { code: 'E_NOT_FOUND', message } }, 404);
    }
    if (code === 'E_TASK_BACKEND' || code === 'E_CACHE_TIER') {
      // A store that cannot be reached: the details (hosts, commands) go to the log only.
      log.warn({ err: error, requestId }, 'a monitoring request found a store unreachable');
      return json(
        {
          error: { code: 'E_UNAVAILABLE', message: 'a backing store is unreachable; retry later' },
        },
        503,
      );
    }
  }
  log.error({ err: error, requestId }, 'a monitoring request failed');
  return json(
    {
      error: {
        code: 'E_INTERNAL',
        message: `internal error; the logs hold the details under request id ${requestId}`,
      },
    },
    500,
  );
}

/** At most one log line a minute per message: a broken backend must not flood the logs every second. */
function throttledLog(log: Logger): (message: string, error: unknown) => void {
  const last = new Map<string, number>();
  return (message, error) => {
    const now = Date.now();
    const previous = last.get(message);
    if (previous !== undefined && now - previous < 60_000) return;
    last.set(message, now);
    log.warn({ err: error }, message);
  };
}

function routePattern(route: RouteSpec): RegExp {
  const source = route.path
    .split('/')
    .map((segment) =>
      segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source === '' ? '/' : source}/?$`);
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '/';
  }
}

function safeHost(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

function stripBase(path: string, basePath: string): string | undefined {
  if (basePath === '') return path;
  if (path === basePath) return '/';
  return path.startsWith(`${basePath}/`) ? path.slice(basePath.length) : undefined;
}

function normalizeBasePath(value: unknown): string {
  if (value === undefined || value === '' || value === '/') return '';
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    throw new MonitoringConfigError(
      'E_MONITORING_CONFIG',
      `basePath=${String(value)} is invalid: expected a path starting with "/"`,
      { option: 'basePath', value },
    );
  }
  return value.endsWith('/') ? value.slice(0, -1) : value;
}

function integer(value: unknown, option: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new MonitoringConfigError(
      'E_MONITORING_CONFIG',
      `${option}=${String(value)} is invalid: expected a whole number of at least ${min}`,
      { option, value },
    );
  }
  return value;
}
