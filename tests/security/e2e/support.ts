// Real host applications for the end-to-end security suites: Express or Fastify, listening on
// 127.0.0.1, with the enterprise middleware's `security` option on, a catch-all route answering
// 200 (so ordinary traffic never piles up 404s), and a login route that records each attempt with
// `security.recordLogin`, the address being the request's client key.
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { enterpriseMiddleware } from '../../../src/adapters/express.js';
import { enterprisePlugin } from '../../../src/adapters/fastify.js';
import { createEnterprise, type Enterprise, type EnterpriseOptions } from '../../../src/index.js';
import type { MiddlewareSecurityOptions } from '../../../src/security/middleware-option.js';
import { recordingLogger } from '../../support/test-doubles.js';

export type Framework = 'express' | 'fastify';
export const FRAMEWORKS: Framework[] = ['fastify', 'express'];

/** The accounts the login route knows: user id → password. */
export const ACCOUNTS: Record<string, string> = { ada: 'correct horse', grace: 'battery staple' };

export interface Host {
  url: string;
  port: number;
  enterprise: Enterprise;
  close(): Promise<void>;
}

/** An instance logging into memory, without the system sampler. */
export function e2eEnterprise(options: EnterpriseOptions = {}): Enterprise {
  return createEnterprise({
    logger: recordingLogger(),
    performance: { systemMetrics: false },
    alerts: false,
    ...options,
  });
}

/** What the login route does with one attempt, the same in both frameworks. */
function login(
  enterprise: Enterprise,
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
  body: unknown,
): { status: number; body: object } {
  const { user, password } = (body ?? {}) as { user?: string; password?: string };
  const security = enterprise.security;
  // The address the security module keys this client by: the socket's, or behind trusted proxies
  // the forwarded one.
  const ip = security.clientKey({ headers, remoteAddress });
  const success = typeof user === 'string' && ACCOUNTS[user] === password;
  security.recordLogin({
    userId: typeof user === 'string' && user !== '' ? user : 'anonymous',
    ip,
    success,
    reason: success
      ? undefined
      : user !== undefined && user in ACCOUNTS
        ? 'bad-password'
        : 'unknown-user',
  });
  return success ? { status: 200, body: { ok: true } } : { status: 401, body: { ok: false } };
}

/** Starts a host application of `framework` with the middleware's `security` option. */
export async function startHost(
  framework: Framework,
  enterprise: Enterprise,
  security: true | MiddlewareSecurityOptions = true,
): Promise<Host> {
  if (framework === 'fastify') {
    const app = Fastify({ logger: false });
    await app.register(enterprisePlugin, {
      enterprise,
      monitoring: false,
      instrument: { security, log: false },
    });
    app.post('/login', async (request, reply) => {
      const result = login(
        enterprise,
        request.headers,
        request.raw.socket.remoteAddress,
        request.body,
      );
      reply.code(result.status);
      return result.body;
    });
    app.all('/*', async (request) => ({ ok: true, method: request.method }));
    app.all('/', async (request) => ({ ok: true, method: request.method }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, port, enterprise, close: () => app.close() };
  }
  const app = express();
  app.use(enterpriseMiddleware({ enterprise, security, log: false }));
  app.use(express.json());
  app.post('/login', (req, res) => {
    const result = login(enterprise, req.headers, req.socket.remoteAddress, req.body);
    res.status(result.status).json(result.body);
  });
  app.use((req, res) => {
    res.json({ ok: true, method: req.method });
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    enterprise,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Sent {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Sends one request with `node:http`, the path exactly as given (no URL normalisation, which would
 * resolve `../` or re-encode what an attacker sends), from `localAddress` when given (any
 * 127.0.0.0/8 address is this machine's: many clients without a proxy).
 */
export function send(
  port: number,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    localAddress?: string;
  },
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A login attempt through the real route. */
export function attemptLogin(
  port: number,
  user: string,
  password: string,
  localAddress: string,
): Promise<Sent> {
  return send(port, {
    method: 'POST',
    path: '/login',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
    localAddress,
  });
}
