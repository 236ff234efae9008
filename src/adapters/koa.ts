/**
 * `@revcopy/enterprise/koa`: the enterprise middleware and the monitoring router for Koa 2 and 3.
 * It only translates between Koa and the framework-agnostic core and does not import Koa.
 *
 * @packageDocumentation
 */
// The default instance needs the composition root, which adapter entries load (modules may not).
import '../enterprise.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  REQUEST_ID_HEADER,
  RequestInstrumentation,
  type RequestInstrumentationOptions,
} from '../monitoring/request-instrumentation.js';
import { DEFAULT_PREFIX, MonitoringMount, type MonitoringMountOptions } from './mount.js';
import { beginNodeRequest, screenedNodeRequest, sendRefusal } from './node-bridge.js';

export type {
  MiddlewareSecurityOptions,
  RequestInstrumentationOptions,
  RequestLogEntry,
  RequestLogOptions,
  RouteRateLimit,
  SecurityRefusal,
} from '../monitoring/request-instrumentation.js';
export type { LifecycleOptions, MonitoringMountOptions } from './mount.js';

/** The parts of a Koa context the adapter uses (Koa 2 and 3 alike). */
export interface KoaContextLike {
  req: IncomingMessage;
  res: ServerResponse;
  /** Set to `false` when the adapter writes the response itself. */
  respond?: boolean;
  /** `@koa/router` sets the matched route template here. */
  _matchedRoute?: unknown;
  /** Older routers set it here. */
  routerPath?: unknown;
  request: { body?: unknown };
  /** The URL as received, before any mount rewrote `req.url`. */
  originalUrl?: unknown;
  /** Where `koa-mount` mounted the middleware (it strips this from the path it passes on). */
  mountPath?: unknown;
}

/** A Koa middleware. */
export type KoaMiddleware = (ctx: any, next: () => Promise<unknown>) => Promise<void>;

/** Options of {@link enterpriseMiddleware}. */
export interface KoaMiddlewareOptions extends RequestInstrumentationOptions {
  /**
   * Finds the route template once the downstream middleware has run. @defaultValue the template
   * `@koa/router` leaves in `ctx._matchedRoute` (or `ctx.routerPath`); `unmatched` without one.
   */
  routeOf?: (ctx: any) => string | undefined;
}

function koaRoute(ctx: KoaContextLike): string | undefined {
  const route = ctx._matchedRoute ?? ctx.routerPath;
  return typeof route === 'string' ? route : undefined;
}

/**
 * The enterprise middleware for Koa: correlation id (inbound `x-request-id` reused when valid,
 * echoed), request context around the downstream middleware, basic security headers, the
 * `http.request` timing (route template, method, status class) and one log line per request.
 * Register it first. Headers survive Koa's error handler, which otherwise clears them. With
 * `security: true` (or `{ rateLimits }`) each request is first inspected by the instance's security
 * module: a refused one is answered 403 or 429 with a JSON body and the downstream middleware never
 * runs.
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import { enterpriseMiddleware, monitoringRouter } from '@revcopy/enterprise/koa';
 *
 * const app = new Koa();
 * app.use(enterpriseMiddleware());
 * app.use(monitoringRouter({ prefix: '/api/v1/monitoring', auth: process.env.MONITORING_TOKEN }));
 * ```
 */
export function enterpriseMiddleware(options: KoaMiddlewareOptions = {}): KoaMiddleware {
  const instrumentation = new RequestInstrumentation(options);
  const routeOf = options.routeOf ?? koaRoute;
  const guard = instrumentation.security;
  return async function enterpriseMiddleware(ctx: KoaContextLike, next) {
    const record = beginNodeRequest(instrumentation, ctx.req, ctx.res, undefined);
    let granted: Record<string, string> | undefined;
    if (guard !== undefined) {
      let verdict = guard.screen(record, screenedNodeRequest(ctx.req, record.correlationId));
      if (verdict instanceof Promise) verdict = await verdict;
      if (verdict?.refusal !== undefined) {
        // Written here, as the monitoring router writes its responses: Koa must not touch it.
        ctx.respond = false;
        sendRefusal(ctx.res, verdict.refusal);
        return;
      }
      granted = verdict?.headers;
      if (granted !== undefined)
        for (const name in granted) ctx.res.setHeader(name, granted[name]!);
    }
    try {
      await instrumentation.run(record, next);
    } catch (error) {
      // Koa's error handler removes every header before answering: hand ours back through
      // `err.headers`, which it sets again.
      if (error !== null && typeof error === 'object') {
        const target = error as { headers?: Record<string, string> };
        const headers: Record<string, string> = { ...granted };
        for (const [name, value] of instrumentation.headers) headers[name] = value;
        headers[REQUEST_ID_HEADER] = record.correlationId;
        target.headers = { ...headers, ...target.headers };
      }
      throw error;
    } finally {
      try {
        record.route = routeOf(ctx);
      } catch {
        record.route = undefined;
      }
    }
  };
}

/** A Koa middleware serving the monitoring router, with `close()` to end its streams. */
export interface KoaMonitoringRouter extends KoaMiddleware {
  /** Ends open event streams and (with `shutdownOnClose`) shuts the instance down. */
  close(): Promise<void>;
}

/**
 * The monitoring router as a Koa middleware answering under `prefix` (default
 * `/api/v1/monitoring`) and passing every other request on. It writes the response itself
 * (`ctx.respond = false`), so event streams are never buffered by Koa. A body parser registered
 * before it keeps working, and so does mounting with `koa-mount` (`prefix: ''` under the mount).
 * The instance starts now; closing the server ends open event streams and shuts it down.
 *
 * @example
 * ```ts
 * app.use(monitoringRouter({ auth: process.env.MONITORING_TOKEN }));
 * // or, under koa-mount: app.use(mount('/ops', monitoringRouter({ prefix: '', auth })));
 * const server = app.listen(3000);
 * ```
 */
export function monitoringRouter(options: MonitoringMountOptions = {}): KoaMonitoringRouter {
  const mount = new MonitoringMount(options, DEFAULT_PREFIX);
  const middleware = async function monitoringRouter(
    ctx: KoaContextLike,
    next: () => Promise<unknown>,
  ): Promise<void> {
    const relative = mount.relative(ctx.req.url ?? '/');
    if (relative === undefined) {
      await next();
      return;
    }
    ctx.respond = false;
    // Under koa-mount the route label keeps the mount path, as Express's keeps `req.baseUrl`.
    const mountedAt = mountPathOf(ctx) + mount.prefix;
    await mount.handleNode(ctx.req, ctx.res, relative, ctx.request.body, mountedAt);
  } as KoaMonitoringRouter;
  middleware.close = () => mount.close();
  return middleware;
}

/** `ctx.mountPath` without its trailing slash; `''` when not mounted (or mounted at `/`). */
function mountPathOf(ctx: KoaContextLike): string {
  const path = ctx.mountPath;
  const original = ctx.originalUrl;
  if (typeof path !== 'string' || !path.startsWith('/') || typeof original !== 'string') return '';
  // koa-mount leaves `mountPath` set after its app passed the request on: only a rewritten URL
  // under it means this request is served from inside the mount.
  if (original === ctx.req.url || !original.startsWith(path)) return '';
  return path.endsWith('/') ? path.slice(0, -1) : path;
}
