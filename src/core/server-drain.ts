// How a graceful shutdown closes a host's HTTP server: it stops accepting, lets the requests in
// flight finish, and cuts the connections that are still open at the deadline. Typed by shape, so
// `node:http`, `node:https` and `http2` servers all fit without importing them.

/**
 * A Node server a graceful shutdown can close: `node:http` and `node:https` servers (what
 * `app.listen()` returns in Express and Koa, `serve()` in `@hono/node-server`).
 *
 * @example
 * ```ts
 * const server: DrainableServer = app.listen(3000);
 * enterprise.onDrain(server);
 * ```
 */
export interface DrainableServer {
  close(callback?: (error?: Error) => void): unknown;
  readonly listening?: boolean;
  /** Node 18.2+: closes connections with no request in flight. */
  closeIdleConnections?(): void;
  /** Node 18.2+: closes every connection. */
  closeAllConnections?(): void;
  prependListener?(event: 'request', listener: (req: unknown, res: ResponseLike) => void): unknown;
  off?(event: 'request', listener: (req: unknown, res: ResponseLike) => void): unknown;
}

interface ResponseLike {
  headersSent?: boolean;
  setHeader?(name: string, value: string): unknown;
}

/** Whether `value` looks like a server {@link DrainableServer} can close. */
export function isDrainableServer(value: unknown): value is DrainableServer {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { close?: unknown }).close === 'function' &&
    typeof (value as { listen?: unknown }).listen === 'function'
  );
}

/** How often idle keep-alive connections are closed while the server drains. */
const IDLE_SWEEP_MS = 50;

/**
 * From now on, every response of `server` carries `Connection: close`: keep-alive clients open a
 * new connection for their next request (to another instance once the balancer noticed), instead
 * of reusing a socket that is about to close. Returns what undoes it.
 */
export function closeAfterEachResponse(server: DrainableServer): () => void {
  const closeAfter = (_req: unknown, res: ResponseLike) => {
    if (res.headersSent !== true) res.setHeader?.('connection', 'close');
  };
  server.prependListener?.('request', closeAfter);
  return () => void server.off?.('request', closeAfter);
}

/**
 * Stops `server` accepting connections and resolves once the requests in flight have finished:
 * `'closed'`; or at `cut` (the deadline, a second signal), after closing every connection still
 * open: `'cut'`. Connections going idle meanwhile are closed as they do.
 */
export function drainServer(
  server: DrainableServer,
  cut: Promise<unknown>,
): Promise<'closed' | 'cut'> {
  if (server.listening === false) return Promise.resolve('closed');
  return new Promise((resolve) => {
    let done = false;
    const sweep = setInterval(() => server.closeIdleConnections?.(), IDLE_SWEEP_MS);
    sweep.unref();
    const finish = (outcome: 'closed' | 'cut') => {
      if (done) return;
      done = true;
      clearInterval(sweep);
      resolve(outcome);
    };
    try {
      // A server already closed calls back with ERR_SERVER_NOT_RUNNING: closed all the same.
      server.close(() => finish('closed'));
    } catch {
      finish('closed');
      return;
    }
    server.closeIdleConnections?.();
    void cut.then(() => {
      if (done) return;
      server.closeAllConnections?.();
      finish('cut');
    });
  });
}
