import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import type { MonitoringRouter } from '../../src/monitoring/index.js';

export const silent = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
};

/** An isolated instance with a silent logger and no system sampler unless asked. */
export function testEnterprise(options: Parameters<typeof createEnterprise>[0] = {}): Enterprise {
  return createEnterprise({ logger: silent, env: {}, ...options });
}

export const TOKEN = 's3cret-token';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

/** `router.fetch` of a request to `path` (relative to the mount point). */
export function call(
  router: MonitoringRouter,
  path: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<Response> {
  return router.fetch(new Request(`http://monitoring.test${path}`, init));
}

/** A real listening node:http server in front of the router, through @hono/node-server. */
export async function listen(router: MonitoringRouter): Promise<{ server: Server; url: string }> {
  const server = createServer(getRequestListener((request) => router.fetch(request)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` every 10 ms until it holds, for at most `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The JSON body of `response`, typed loosely: the tests assert its shape right after. */
export function json(response: Response): Promise<any> {
  return response.json() as Promise<any>;
}
