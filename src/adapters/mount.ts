// What every adapter shares to mount the monitoring router: the prefix, the router, the route
// templates of its requests, and the enterprise lifecycle tied to the host's.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import {
  defaultMonitoredInstance,
  type MonitoredInstance,
} from '../monitoring/monitored-instance.js';
import {
  createMonitoringRouter,
  type MonitoringRouter,
  type MonitoringRouterOptions,
} from '../monitoring/router.js';
import {
  BodyTooLargeError,
  MONITORING_ROUTE,
  sendWebResponse,
  toWebRequest,
} from './node-bridge.js';

/** Where the monitoring router answers unless told otherwise. */
export const DEFAULT_PREFIX = '/api/v1/monitoring';

/** How the enterprise lifecycle follows the host application. */
export interface LifecycleOptions {
  /**
   * Start the instance (system metrics sampler, workers, cache warmers) with the application.
   * @defaultValue true
   */
  start?: boolean;
  /**
   * Shut the instance down when the host closes (the server's `close()`, Fastify's `onClose`,
   * NestJS's shutdown hooks). Open event streams are always ended first, so closing never waits on
   * a dashboard left open. @defaultValue true
   */
  shutdownOnClose?: boolean;
  /**
   * Also shut down on these process signals (`true`: SIGTERM and SIGINT). After the shutdown the
   * signal is raised again when no other listener handles it, so the process still exits.
   * @defaultValue false
   */
  shutdownOnSignals?: boolean | readonly NodeJS.Signals[];
}

/** Options of the mounted monitoring router: the router's own, a prefix and the lifecycle. */
export interface MonitoringMountOptions extends MonitoringRouterOptions, LifecycleOptions {
  /**
   * The path the router answers under, e.g. `/api/v1/monitoring`. Where the framework mounts by
   * path itself (Express `app.use(path, ...)`, Hono `app.route(path, ...)`), leave it out.
   */
  prefix?: string;
}

/** Route templates of the router's endpoints, relative to the mount point. */
const FIXED_ROUTES = new Set([
  '/',
  '/health',
  '/health/live',
  '/health/ready',
  '/performance/summary',
  '/performance/realtime',
  '/database/performance',
  '/cache/analytics',
  '/tasks/monitoring',
  '/metrics',
  '/info',
  '/openapi.json',
  '/dashboard',
  '/security/monitoring',
  '/alerts',
  '/tasks/dead/purge',
]);
const PARAM_ROUTES: readonly (readonly [RegExp, string])[] = [
  [/^\/dashboard\/assets\/[^/]+$/, '/dashboard/assets/:file'],
  [/^\/tasks\/dead\/[^/]+\/retry$/, '/tasks/dead/:id/retry'],
  [/^\/tasks\/queues\/[^/]+\/(pause|resume)$/, '/tasks/queues/:queue/$1'],
  [/^\/cache\/warmers\/[^/]+\/run$/, '/cache/warmers/:name/run'],
  [/^\/cache\/tags\/[^/]+\/invalidate$/, '/cache/tags/:tag/invalidate'],
];

/**
 * The route template a monitoring request is recorded under: the endpoint's template below the
 * prefix (`/api/v1/monitoring/tasks/dead/:id/retry`), or `<prefix>/*` for any other path, so ids
 * and unknown paths never become labels.
 */
export function monitoringRouteTemplate(prefix: string, relativePath: string): string {
  const query = relativePath.indexOf('?');
  let path = query === -1 ? relativePath : relativePath.slice(0, query);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  if (FIXED_ROUTES.has(path)) return prefix + (path === '/' ? '' : path) || '/';
  for (const [pattern, template] of PARAM_ROUTES) {
    if (pattern.test(path)) return prefix + path.replace(pattern, template);
  }
  return `${prefix}/*`;
}

/** Checks a prefix and returns it without a trailing slash (`''` for the root). */
export function normalizePrefix(prefix: unknown, fallback: string): string {
  const value = prefix ?? fallback;
  if (
    typeof value !== 'string' ||
    (value !== '' && !value.startsWith('/')) ||
    /[?#\s]/.test(value)
  ) {
    throw new InvalidArgumentError(
      `prefix=${describeValue(value)} is invalid: expected a path starting with "/"`,
      { argument: 'prefix', value, expected: 'a path starting with "/"' },
    );
  }
  return value.endsWith('/') ? value.slice(0, -1) : value;
}

/**
 * The router mounted in a host: builds it (which refuses to start in production without `auth`),
 * starts the instance, and ties closing to the host's.
 *
 * @internal
 */
export class MonitoringMount {
  readonly prefix: string;
  readonly router: MonitoringRouter;
  readonly enterprise: MonitoredInstance;
  readonly #shutdownOnClose: boolean;
  #closing: Promise<void> | undefined;
  #removeSignals: (() => void) | undefined;
  /** Servers this mount is tied to; per mount, so two mounts on one server both follow it. */
  readonly #servers = new WeakSet<Server>();

  constructor(options: MonitoringMountOptions, defaultPrefix: string) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError(`options=${describeValue(options)} is not an object`, {
        argument: 'options',
        value: options,
        expected: 'an options object',
      });
    }
    const { prefix, start, shutdownOnClose, shutdownOnSignals, ...routerOptions } = options;
    this.prefix = normalizePrefix(prefix, defaultPrefix);
    this.enterprise = options.enterprise ?? defaultMonitoredInstance();
    this.router = createMonitoringRouter({ ...routerOptions, enterprise: this.enterprise });
    this.#shutdownOnClose = shutdownOnClose ?? true;
    if (start ?? true) this.start();
    if (shutdownOnSignals) {
      this.#removeSignals = onSignals(
        shutdownOnSignals === true ? ['SIGTERM', 'SIGINT'] : shutdownOnSignals,
        () => this.close(true),
      );
    }
  }

  /** Starts the instance; a failure is logged, never thrown into the host. */
  start(): void {
    this.enterprise.start().catch((error: unknown) => {
      this.enterprise.logger.error({ err: error }, 'the enterprise instance failed to start');
    });
  }

  /**
   * The path relative to the mount point (with its query), or `undefined` when `url` is not under
   * the prefix.
   */
  relative(url: string): string | undefined {
    const prefix = this.prefix;
    if (prefix === '') return url === '' ? '/' : url;
    if (!url.startsWith(prefix)) return undefined;
    const rest = url.slice(prefix.length);
    if (rest === '') return '/';
    const next = rest.charCodeAt(0);
    // '/' or '?': `/api/v1/monitoringX` is another path.
    return next === 47 ? rest : next === 63 ? `/${rest}` : undefined;
  }

  /** The route template of a request under the mount. */
  template(relativePath: string, mountedAt = this.prefix): string {
    return monitoringRouteTemplate(mountedAt, relativePath);
  }

  /**
   * Serves a Node request with the router. `relativePath` is the path and query below the mount;
   * `parsed` is the body when the host's parser already read it. Never rejects: a failure becomes
   * a 500 JSON error.
   */
  async handleNode(
    req: IncomingMessage,
    res: ServerResponse,
    relativePath: string,
    parsed: unknown,
    mountedAt = this.prefix,
  ): Promise<void> {
    (req as { [MONITORING_ROUTE]?: string })[MONITORING_ROUTE] = this.template(
      relativePath,
      mountedAt,
    );
    this.bindServer((req.socket as { server?: Server } | null)?.server);
    try {
      const request = await toWebRequest(req, res, relativePath, parsed);
      const response = await this.router.fetch(request);
      await sendWebResponse(res, response, req.method);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        if (!res.headersSent) {
          res.statusCode = 413;
          // The rest of the body is left unread: the connection cannot be reused.
          res.setHeader('connection', 'close');
          res.setHeader('content-type', 'application/json; charset=utf-8');
          res.end(
            JSON.stringify({ error: { code: 'E_PAYLOAD_TOO_LARGE', message: error.message } }),
          );
        }
        return;
      }
      // The client left (mid-body, mid-response): nobody to answer, nothing worth an error line.
      if (res.destroyed) return;
      this.enterprise.logger.error({ err: error }, 'the monitoring router failed');
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ error: { code: 'E_INTERNAL', message: 'internal error' } }));
      } else if (!res.writableEnded) {
        res.destroy();
      }
    }
  }

  /**
   * Ties the lifecycle to a Node server (found from the first request it serves): its `close()`
   * first ends the router's event streams, which would otherwise keep the server from closing, and
   * once closed the instance shuts down when `shutdownOnClose` is on.
   */
  bindServer(server: Server | undefined): void {
    if (server === undefined || typeof server.close !== 'function' || this.#servers.has(server)) {
      return;
    }
    this.#servers.add(server);
    // A graceful shutdown of the instance closes this server after its readiness delay.
    this.enterprise.onDrain?.(server);
    const original = server.close;
    const mount = this;
    // An own property, so only this server changes; the original is called as it was.
    server.close = function close(this: Server, ...args: Parameters<Server['close']>) {
      void mount.router.close().catch(() => undefined);
      return original.apply(this, args);
    } as Server['close'];
    server.once('close', () => {
      // Nobody awaits this one: a failed shutdown is logged, never an unhandled rejection.
      this.close(this.#shutdownOnClose).catch((error: unknown) => {
        this.enterprise.logger.error({ err: error }, 'the enterprise instance failed to shut down');
      });
    });
  }

  /** Ends open event streams and, when `shutdown` is true, shuts the instance down. Idempotent. */
  close(shutdown = this.#shutdownOnClose): Promise<void> {
    this.#closing ??= (async () => {
      this.#removeSignals?.();
      await this.router.close().catch(() => undefined);
      if (shutdown) await this.enterprise.shutdown();
    })();
    return this.#closing;
  }
}

/** Shutdowns started by a signal and not finished yet, across every mount and module. */
const pendingSignalShutdowns = new Set<Promise<void>>();

/**
 * Runs `fn` once on the first of `signals`, then re-raises the signal when nobody else listens to
 * it, so the process ends as it would have without us. Several mounts may listen at once: the
 * signal is raised again only once every shutdown it started has finished, so one quick shutdown
 * does not end the process under another one still draining. Returns the function that removes
 * the listeners.
 */
export function onSignals(signals: readonly NodeJS.Signals[], fn: () => Promise<void>): () => void {
  let fired = false;
  const handler = (signal: NodeJS.Signals) => {
    remove();
    if (fired) return;
    fired = true;
    const shutdown = fn().catch(() => undefined);
    pendingSignalShutdowns.add(shutdown);
    void shutdown.finally(() => {
      pendingSignalShutdowns.delete(shutdown);
      if (pendingSignalShutdowns.size === 0 && process.listenerCount(signal) === 0) {
        process.kill(process.pid, signal);
      }
    });
  };
  const remove = () => {
    for (const signal of signals) process.off(signal, handler);
  };
  for (const signal of signals) process.on(signal, handler);
  return remove;
}
