/**
 * `@revcopy/enterprise/express`: the enterprise middleware and the monitoring router for Express 4
 * and 5. It only translates between Express and the framework-agnostic core; it does not import
 * Express at all, so it adds nothing to a host's dependency tree.
 *
 * @packageDocumentation
 */
// The default instance needs the composition root, which adapter entries load (modules may not).
import '../enterprise.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  RequestInstrumentation,
  type RequestInstrumentationOptions,
} from '../monitoring/request-instrumentation.js';
import { MonitoringMount, type MonitoringMountOptions } from './mount.js';
import { beginNodeRequest, guardNodeRequest } from './node-bridge.js';

export type {
  MiddlewareSecurityOptions,
  RequestInstrumentationOptions,
  RequestLogEntry,
  RequestLogOptions,
  RouteRateLimit,
  SecurityRefusal,
} from '../monitoring/request-instrumentation.js';
export type { LifecycleOptions, MonitoringMountOptions } from './mount.js';

/** The parts of an Express request the adapter reads (Express 4 and 5 alike). */
interface ExpressRequest extends IncomingMessage {
  baseUrl?: string;
  originalUrl?: string;
  route?: { path?: unknown };
  body?: unknown;
}

/** An Express middleware: `(req, res, next)`. */
export type ExpressMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** Options of {@link enterpriseMiddleware}. */
export interface ExpressMiddlewareOptions extends RequestInstrumentationOptions {
  /**
   * Finds the route template of a request at the end of its response. @defaultValue
   * `req.baseUrl + req.route.path` (the Express route that answered), `undefined` (recorded as
   * `unmatched`) when none did.
   */
  routeOf?: (req: IncomingMessage) => string | undefined;
}

/** Express's own route template: the mount path of the router plus the route's path. */
function expressRoute(req: IncomingMessage): string | undefined {
  const request = req as ExpressRequest;
  const path = request.route?.path;
  if (path === undefined) return undefined;
  // Express matches mount paths case-insensitively and `baseUrl` is the path as sent: lower-cased,
  // `/API/users/:id` and `/api/users/:id` are one label, not one per spelling a client invents.
  const base = request.baseUrl ? request.baseUrl.toLowerCase() : '';
  return typeof path === 'string' ? base + path : base + String(path);
}

/**
 * The enterprise middleware for Express: a correlation id per request (a valid inbound
 * `x-request-id` reused, echoed in the response), the request context around the rest of the
 * chain, basic security headers (`securityHeaders: 'helmet'` for all of helmet's), the
 * `http.request` timing with `route` (template), `method` and `status_class` labels, and one log
 * line per request. Register it first. With `security: true` (or `{ rateLimits }`) each request is
 * first inspected by the instance's security module: a refused one is answered 403 or 429 with a
 * JSON body and never reaches the route.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { enterpriseMiddleware, monitoringRouter } from '@revcopy/enterprise/express';
 *
 * const app = express();
 * app.use(enterpriseMiddleware());
 * app.use('/api/v1/monitoring', monitoringRouter({ auth: process.env.MONITORING_TOKEN }));
 * app.get('/users/:id', (req, res) => res.json({ id: req.params.id })); // recorded as /users/:id
 *
 * // Screening, bans and rate limits: the module's settings are the instance's.
 * app.use(enterpriseMiddleware({
 *   security: { rateLimits: [{ path: '/login', methods: ['POST'], limit: 5, window: '1m' }] },
 * }));
 * ```
 */
export function enterpriseMiddleware(options: ExpressMiddlewareOptions = {}): ExpressMiddleware {
  const instrumentation = new RequestInstrumentation(options);
  const routeOf = options.routeOf ?? expressRoute;
  const guard = instrumentation.security;
  if (guard === undefined) {
    return function enterpriseMiddleware(req, res, next) {
      const record = beginNodeRequest(instrumentation, req, res, routeOf);
      instrumentation.run(record, next);
    };
  }
  return function enterpriseMiddleware(req, res, next) {
    const record = beginNodeRequest(instrumentation, req, res, routeOf);
    const url = (req as ExpressRequest).originalUrl;
    const result = guardNodeRequest(guard, record, req, res, url, () =>
      instrumentation.run(record, next),
    );
    if (result instanceof Promise) result.catch(next);
  };
}

/** An Express handler serving the monitoring router, with `close()` to end its streams. */
export interface ExpressMonitoringRouter extends ExpressMiddleware {
  /** Ends open event streams and (with `shutdownOnClose`) shuts the instance down. */
  close(): Promise<void>;
}

/**
 * The monitoring router as an Express handler. Mount it under a path
 * (`app.use('/api/v1/monitoring', monitoringRouter())`) or give `prefix` and mount it at the root.
 * Body parsers registered before it (`express.json()`) keep working: actions read the parsed body.
 * The instance starts now; closing the server ends open event streams and shuts it down.
 *
 * @example
 * ```ts
 * app.use('/api/v1/monitoring', monitoringRouter({ auth: process.env.MONITORING_TOKEN }));
 * const server = app.listen(3000);
 * process.on('SIGTERM', () => server.close()); // ends dashboards' streams, then enterprise.shutdown()
 * ```
 */
export function monitoringRouter(options: MonitoringMountOptions = {}): ExpressMonitoringRouter {
  const mount = new MonitoringMount(options, '');
  const handler = function monitoringRouter(
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    const request = req as ExpressRequest;
    const relative = mount.relative(req.url ?? '/');
    if (relative === undefined) {
      next();
      return;
    }
    // Where Express mounted us (`app.use(path, ...)`) plus our own prefix, for the route label.
    // Lower-cased as in `expressRoute`: Express matched the mount path case-insensitively.
    const mountedAt = (request.baseUrl ? request.baseUrl.toLowerCase() : '') + mount.prefix;
    void mount.handleNode(req, res, relative, request.body, mountedAt);
  } as ExpressMonitoringRouter;
  handler.close = () => mount.close();
  return handler;
}
