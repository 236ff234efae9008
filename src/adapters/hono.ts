/**
 * `@revcopy/enterprise/hono`: the enterprise middleware and the monitoring router as a Hono app,
 * for Hono 4 on any runtime it supports that has `AsyncLocalStorage` (Node, Bun, Deno).
 *
 * @packageDocumentation
 */
// The default instance needs the composition root, which adapter entries load (modules may not).
import '../enterprise.js';
import type { IncomingMessage, Server } from 'node:http';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { getCorrelationId } from '../core/context.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import {
  REQUEST_ID_HEADER,
  RequestInstrumentation,
  type RequestInstrumentationOptions,
  type RequestRecord,
  type SecurityVerdict,
} from '../monitoring/request-instrumentation.js';
import type { ScreenedRequest } from '../monitoring/request-security.js';
import { MonitoringMount, type MonitoringMountOptions } from './mount.js';
import { MONITORING_ROUTE, screenedNodeRequest } from './node-bridge.js';

type MonitoredContext = Context & { [MONITORING_ROUTE]?: string };

export type {
  MiddlewareSecurityOptions,
  RequestInstrumentationOptions,
  RequestLogEntry,
  RequestLogOptions,
  RouteRateLimit,
  SecurityRefusal,
} from '../monitoring/request-instrumentation.js';
export type { LifecycleOptions, MonitoringMountOptions } from './mount.js';

/** Options of {@link enterpriseMiddleware}. */
export interface HonoMiddlewareOptions extends RequestInstrumentationOptions {
  /**
   * Finds the route template after the handler ran. @defaultValue the path of the route that
   * answered (`c.req.routePath`), `unmatched` when only middleware ran (a 404).
   */
  routeOf?: (c: Context) => string | undefined;
  /**
   * With `security`: the client's address (the socket's peer), which keys bans and rate limits.
   * Under `@hono/node-server` it is read from the Node request (`c.env.incoming`) and this is not
   * needed; on other runtimes give it, e.g. with Hono's `getConnInfo` (`hono/bun`, `hono/deno`):
   * `remoteAddress: (c) => getConnInfo(c).remote.address`. Without it every request of such a
   * runtime has the client key `unknown` (one client for bans and rate limits).
   * @defaultValue the Node socket's address under `@hono/node-server`, else none
   */
  remoteAddress?: (c: Context) => string | undefined;
}

/**
 * The enterprise middleware for Hono: correlation id (inbound `x-request-id` reused when valid,
 * echoed), request context around the rest of the chain, basic security headers (`'helmet'` for
 * all of helmet's; a header the handler set wins), the `http.request` timing (route template, method, status class) and one log
 * line per request. Register it first, with `app.use('*', ...)`.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { enterpriseMiddleware, monitoringApp } from '@revcopy/enterprise/hono';
 *
 * const app = new Hono();
 * app.use('*', enterpriseMiddleware());
 * app.route('/api/v1/monitoring', monitoringApp({ auth: process.env.MONITORING_TOKEN }));
 * app.get('/users/:id', (c) => c.json({ id: c.req.param('id') })); // recorded as /users/:id
 * ```
 */
export function enterpriseMiddleware(options: HonoMiddlewareOptions = {}): MiddlewareHandler {
  const instrumentation = new RequestInstrumentation(options);
  const routeOf = options.routeOf;
  const guard = instrumentation.security;
  const remoteAddress = options.remoteAddress;
  if (remoteAddress !== undefined && typeof remoteAddress !== 'function') {
    throw new InvalidArgumentError(
      `remoteAddress=${describeValue(remoteAddress)} is invalid: expected a function (c) => address`,
      { argument: 'remoteAddress', value: remoteAddress, expected: 'a function' },
    );
  }
  return async function enterpriseMiddleware(c, next) {
    const record = instrumentation.begin(
      c.req.method,
      c.req.header(REQUEST_ID_HEADER),
      c.req.header('traceparent'),
      c.req.header('tracestate'),
    );
    const ownIndex = c.req.routeIndex;
    let verdict: SecurityVerdict | undefined;
    try {
      if (guard !== undefined) {
        const screened = guard.screen(record, screenedHonoRequest(c, record, remoteAddress));
        verdict = screened instanceof Promise ? await screened : screened;
        const refusal = verdict?.refusal;
        if (refusal !== undefined) {
          c.res = new Response(JSON.stringify(refusal.body), {
            status: refusal.status,
            headers: refusal.headers,
          });
          return c.res;
        }
      }
      await instrumentation.run(record, next);
    } finally {
      let route: string | undefined;
      try {
        route =
          verdict?.refusal !== undefined
            ? undefined
            : routeOf !== undefined
              ? routeOf(c)
              : honoRoute(c, ownIndex);
      } catch {
        route = undefined;
      }
      const status = c.res.status;
      setHeaders(c, instrumentation, record.correlationId, verdict?.headers);
      instrumentation.end(record, route, status);
    }
  };
}

/**
 * The request as the security module reads it. Under `@hono/node-server` from the Node request
 * itself (the raw URL before any normalisation, the headers object as parsed, the socket);
 * elsewhere from the Web `Request` (path and query of its URL, its headers copied) and the
 * `remoteAddress` option.
 */
function screenedHonoRequest(
  c: Context,
  record: RequestRecord,
  remoteAddress: ((c: Context) => string | undefined) | undefined,
): ScreenedRequest {
  const env = c.env as
    | { incoming?: IncomingMessage; server?: { incoming?: IncomingMessage } }
    | undefined;
  const incoming = env?.incoming ?? env?.server?.incoming;
  if (incoming !== undefined && typeof incoming.headers === 'object') {
    const request = screenedNodeRequest(incoming, record.correlationId);
    if (remoteAddress !== undefined) request.remoteAddress = addressOf(c, remoteAddress);
    return request;
  }
  const url = c.req.url;
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const target = start === -1 ? '/' : url.slice(start);
  const mark = target.indexOf('?');
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return {
    method: c.req.method,
    path: mark === -1 ? target : target.slice(0, mark),
    query: mark === -1 ? '' : target.slice(mark + 1),
    headers,
    remoteAddress: remoteAddress === undefined ? undefined : addressOf(c, remoteAddress),
    correlationId: record.correlationId,
    secure: url.startsWith('https:'),
  };
}

/** The host's `remoteAddress` function, whose failure must not fail the request: no address then. */
function addressOf(
  c: Context,
  remoteAddress: (c: Context) => string | undefined,
): string | undefined {
  try {
    const address = remoteAddress(c);
    return typeof address === 'string' ? address : undefined;
  } catch {
    return undefined;
  }
}

/** The answering route's path, unless only middleware (ours or a wildcard) answered. */
function honoRoute(c: Context, ownIndex: number): string | undefined {
  const monitoring = (c as MonitoredContext)[MONITORING_ROUTE];
  if (monitoring !== undefined) return monitoring;
  if (c.req.routeIndex === ownIndex) return undefined;
  const path = c.req.routePath;
  return path === '*' || path === '/*' || path === '' ? undefined : path;
}

function setHeaders(
  c: Context,
  instrumentation: RequestInstrumentation,
  id: string,
  granted: Record<string, string> | undefined,
): void {
  let headers = c.res.headers;
  try {
    headers.set(REQUEST_ID_HEADER, id);
  } catch {
    // A response from fetch() has immutable headers: answer with a copy.
    c.res = new Response(c.res.body, c.res);
    headers = c.res.headers;
    headers.set(REQUEST_ID_HEADER, id);
  }
  for (const [name, value] of instrumentation.headers) {
    if (!headers.has(name)) headers.set(name, value);
  }
  if (instrumentation.hidePoweredBy) headers.delete('x-powered-by');
  if (granted !== undefined) for (const name in granted) headers.set(name, granted[name]!);
}

/** The Hono app of {@link monitoringApp}, with `close()` to end its streams. */
export type MonitoringApp = Hono & {
  /** Ends open event streams and (with `shutdownOnClose`) shuts the instance down. */
  close(): Promise<void>;
};

/**
 * The monitoring router as a Hono app. Mount it with `app.route(path, monitoringApp())`, or give
 * `prefix` and serve it on its own (`serve({ fetch: monitoringApp({ prefix: '/api/v1/monitoring' })
 * .fetch, overrideGlobalObjects: false })`: without that flag `@hono/node-server` replaces the
 * global `Request`/`Response`). The instance starts now; `close()` (or `shutdownOnSignals`) ends open event streams and shuts it
 * down. On Node with `@hono/node-server`, closing the server does the same.
 *
 * @example
 * ```ts
 * const monitoring = monitoringApp({ auth: process.env.MONITORING_TOKEN, shutdownOnSignals: true });
 * app.route('/api/v1/monitoring', monitoring);
 * ```
 */
export function monitoringApp(options: MonitoringMountOptions = {}): MonitoringApp {
  const mount = new MonitoringMount(options, '');
  const app = new Hono();
  const handler = async (c: Context): Promise<Response> => {
    const server = (c.env as { incoming?: { socket?: { server?: Server } } } | undefined)?.incoming
      ?.socket?.server;
    if (server !== undefined) mount.bindServer(server);
    const url = new URL(c.req.url);
    // Strip as many path segments as the mount template has: `/:tenant/monitoring/*` works too.
    const template = c.req.routePath.replace(/\/?\*$/, '');
    const depth = template === '' || template === '/' ? 0 : template.split('/').length - 1;
    const segments = url.pathname.split('/');
    const mountedPath = segments.slice(0, depth + 1).join('/');
    url.pathname = url.pathname.slice(mountedPath.length) || '/';
    const raw = c.req.raw;
    const headers = new Headers(raw.headers);
    const id = getCorrelationId();
    if (id !== undefined) headers.set(REQUEST_ID_HEADER, id);
    (c as MonitoredContext)[MONITORING_ROUTE] = mount.template(
      url.pathname,
      template === '/' ? '' : template,
    );
    const body =
      raw.method === 'GET' || raw.method === 'HEAD'
        ? null
        : raw.bodyUsed
          ? await bodyReadBefore(c)
          : raw.body;
    const request = new Request(url, {
      method: raw.method,
      headers,
      body,
      signal: raw.signal,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    return mount.router.fetch(request);
  };
  const base = mount.prefix;
  app.all(base === '' ? '/' : base, handler);
  app.all(`${base}/*`, handler);
  return Object.assign(app, { close: () => mount.close() });
}

/**
 * The body a host middleware has read already (a validator's `c.req.json()`): Hono keeps what it
 * read, so the router's actions that take a body (acknowledge an alert, create a silence) still
 * get it. `null` when it was read around Hono (`c.req.raw.json()`), which leaves nothing to give.
 */
async function bodyReadBefore(c: Context): Promise<ArrayBuffer | null> {
  if (Object.keys(c.req.bodyCache).length === 0) return null;
  try {
    return await c.req.arrayBuffer();
  } catch {
    return null;
  }
}
