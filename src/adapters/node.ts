/**
 * `@revcopy/enterprise/node`: the monitoring router and the request instrumentation for a plain
 * `node:http` (or `node:https`) server, with no framework.
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
import { DEFAULT_PREFIX, MonitoringMount, type MonitoringMountOptions } from './mount.js';
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

/** A `node:http` request listener. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Options of {@link createMonitoringListener}. */
export interface MonitoringListenerOptions extends MonitoringMountOptions {
  /**
   * The application's own listener, called for every request outside the prefix (instrumented
   * when `instrument` is on). Without it those requests get a 404.
   */
  handler?: (req: IncomingMessage, res: ServerResponse) => unknown;
  /**
   * Instrument every request (correlation id, context, security headers, `http.request`, log line):
   * options, `true`, or `false` to leave the application's requests alone. Its `security` option
   * has every request, the router's included, inspected by the security module first.
   * @defaultValue true
   */
  instrument?: boolean | NodeInstrumentOptions;
}

/** Options of the instrumentation of a plain Node listener. */
export interface NodeInstrumentOptions extends RequestInstrumentationOptions {
  /**
   * Finds the route template of an application request; a plain server has no router to ask.
   * Return a template (`/users/:id`), never the raw path. @defaultValue `unmatched` for all
   */
  routeOf?: (req: IncomingMessage) => string | undefined;
}

/** The listener returned by {@link createMonitoringListener}. */
export interface MonitoringListener extends NodeListener {
  /** Ends open event streams and (with `shutdownOnClose`) shuts the instance down. */
  close(): Promise<void>;
}

/**
 * A `(req, res)` listener serving the monitoring router under `prefix` (default
 * `/api/v1/monitoring`) and handing everything else to `handler`, each request instrumented. The
 * instance starts now; closing the server ends open event streams and shuts it down.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createMonitoringListener } from '@revcopy/enterprise/node';
 *
 * const server = createServer(
 *   createMonitoringListener({
 *     auth: process.env.MONITORING_TOKEN,
 *     handler: (req, res) => res.end('hello'),
 *     instrument: { routeOf: (req) => (req.url?.startsWith('/users/') ? '/users/:id' : undefined) },
 *   }),
 * );
 * server.listen(3000);
 * ```
 */
export function createMonitoringListener(
  options: MonitoringListenerOptions = {},
): MonitoringListener {
  const { handler, instrument = true, ...mountOptions } = options;
  const mount = new MonitoringMount(mountOptions, DEFAULT_PREFIX);
  const instrumentOptions = typeof instrument === 'object' ? instrument : {};
  const instrumentation =
    instrument === false
      ? undefined
      : new RequestInstrumentation({ enterprise: mount.enterprise, ...instrumentOptions });
  const routeOf = instrumentOptions.routeOf;
  // A handler that throws (synchronously or by rejecting) gets a 500 and a log line, never an
  // uncaught exception that would end the process.
  const fail = (res: ServerResponse, error: unknown) => {
    mount.enterprise.logger.error({ err: error }, 'the request handler failed');
    if (!res.headersSent) res.statusCode = 500;
    if (!res.writableEnded) res.end();
  };
  const listener = function monitoringListener(req: IncomingMessage, res: ServerResponse): void {
    const relative = mount.relative(req.url ?? '/');
    const serve = () => {
      if (relative !== undefined) return mount.handleNode(req, res, relative, undefined);
      if (handler !== undefined) return handler(req, res);
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ error: { code: 'E_NOT_FOUND', message: 'not found' } }));
      return undefined;
    };
    let result: unknown;
    try {
      if (instrumentation === undefined) result = serve();
      else {
        const record = beginNodeRequest(instrumentation, req, res, routeOf);
        const guard = instrumentation.security;
        result =
          guard === undefined
            ? instrumentation.run(record, serve)
            : guardNodeRequest(guard, record, req, res, undefined, () =>
                instrumentation.run(record, serve),
              );
      }
    } catch (error) {
      fail(res, error);
      return;
    }
    if (result instanceof Promise) result.catch((error: unknown) => fail(res, error));
  } as MonitoringListener;
  listener.close = () => mount.close();
  return listener;
}

/**
 * Wraps a plain Node listener with the request instrumentation alone (no monitoring router). With
 * `security`, a request the security module refuses is answered 403 or 429 and never reaches
 * `handler`.
 *
 * @example
 * ```ts
 * createServer(instrumentListener((req, res) => res.end('ok'), { routeOf: () => '/' })).listen(3000);
 * createServer(instrumentListener(handler, { security: { rateLimits: [{ limit: 100, window: '1m' }] } }));
 * ```
 */
export function instrumentListener(
  handler: (req: IncomingMessage, res: ServerResponse) => unknown,
  options: NodeInstrumentOptions = {},
): NodeListener {
  const instrumentation = new RequestInstrumentation(options);
  const routeOf = options.routeOf;
  const guard = instrumentation.security;
  if (guard === undefined) {
    return function instrumentedListener(req, res) {
      const record = beginNodeRequest(instrumentation, req, res, routeOf);
      instrumentation.run(record, () => handler(req, res));
    };
  }
  return function instrumentedListener(req, res) {
    const record = beginNodeRequest(instrumentation, req, res, routeOf);
    const result = guardNodeRequest(guard, record, req, res, undefined, () => {
      instrumentation.run(record, () => handler(req, res));
    });
    // A promise only when the verdict was awaited; it rejects only when the handler then threw,
    // which must not become an unhandled rejection of ours. (What the handler returns is its own.)
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        record.enterprise.logger.error({ err: error }, 'the request handler failed');
        if (!res.headersSent) res.statusCode = 500;
        if (!res.writableEnded) res.end();
      });
    }
  };
}
