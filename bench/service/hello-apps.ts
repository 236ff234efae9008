/**
 * The hello-world applications of bench:service, Fastify 5 and Express 5: bare; the floor (an
 * AsyncLocalStorage context with the `nosniff` and `x-request-id` headers, no library code); ours
 * (the enterprise middleware); the peers' request instrumentation. For Fastify the peers' is its
 * pino logger (one line per request: `request completed`), a prom-client histogram hook by route and
 * the header; for Express the equivalent of pino-http (a child logger with the request's id and
 * one line when the response finishes), the histogram and helmet's `noSniff()` header, written
 * here as small middleware because pino-http and helmet are not installed in this repository.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type FastifyInstance, LogController } from 'fastify';
import pino from 'pino';
import client from 'prom-client';
import type { HelloFramework, HelloVariant, Running } from './contract.js';
import { ours } from './ours-library.js';

export type { HelloFramework, HelloVariant } from './contract.js';

/** Fastify's request log with one line per request (its `request completed`), as its docs show. */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
}

function histogram() {
  return new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status_code'],
    registers: [new client.Registry()],
  });
}

function asyncLogger() {
  return pino(pino.destination({ dest: 1, sync: false, minLength: 4096 }));
}

async function fastifyApp(variant: HelloVariant): Promise<number> {
  const { default: Fastify } = await import('fastify');
  const app = (
    variant === 'peers'
      ? Fastify({ loggerInstance: asyncLogger(), logController: new OneLinePerRequest() })
      : Fastify({ logger: false })
  ) as FastifyInstance;
  if (variant === 'ours') {
    const { createEnterprise } = await ours.root();
    const { enterprisePlugin } = await ours.fastify();
    const enterprise = createEnterprise({ performance: { systemMetrics: false } });
    await app.register(enterprisePlugin, {
      enterprise,
      monitoring: false,
      instrument: { enterprise },
    });
  } else if (variant === 'floor') {
    const storage = new AsyncLocalStorage<{ id: number }>();
    let requests = 0;
    app.addHook('onRequest', (_request, reply, done) => {
      const id = ++requests;
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-request-id', String(id));
      storage.run({ id }, done);
    });
  } else if (variant === 'peers') {
    const duration = histogram();
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-request-id', request.id);
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      duration.observe(
        { method: request.method, route, status_code: reply.statusCode },
        reply.elapsedTime / 1000,
      );
      done();
    });
  }
  app.get('/', async () => ({ hello: 'world' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

async function expressApp(variant: HelloVariant): Promise<number> {
  const { default: express } = await import('express');
  const app = express();
  if (variant === 'ours') {
    const { createEnterprise } = await ours.root();
    const { enterpriseMiddleware } = await ours.express();
    const enterprise = createEnterprise({ performance: { systemMetrics: false } });
    app.use(enterpriseMiddleware({ enterprise }));
  } else if (variant === 'floor') {
    const storage = new AsyncLocalStorage<{ id: number }>();
    let requests = 0;
    app.use((_req, res, next) => {
      const id = ++requests;
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('x-request-id', String(id));
      res.removeHeader('x-powered-by');
      storage.run({ id }, next);
    });
  } else if (variant === 'peers') {
    const logger = asyncLogger();
    const duration = histogram();
    let requests = 0;
    app.disable('x-powered-by');
    // pino-http's work: an id, a child logger on the request, one line when the response ends.
    app.use((req, res, next) => {
      const start = performance.now();
      const id = ++requests;
      const log = logger.child({ reqId: id });
      (req as { log?: pino.Logger }).log = log;
      res.on('finish', () => {
        const responseTime = performance.now() - start;
        const route = req.route === undefined ? 'unmatched' : req.baseUrl + req.route.path;
        duration.observe(
          { method: req.method, route, status_code: res.statusCode },
          responseTime / 1000,
        );
        log.info(
          {
            req: { method: req.method, url: req.url },
            res: { statusCode: res.statusCode },
            responseTime,
          },
          'request completed',
        );
      });
      next();
    });
    // helmet's noSniff().
    app.use((_req, res, next) => {
      res.setHeader('x-content-type-options', 'nosniff');
      next();
    });
  }
  app.get('/', (_req, res) => {
    res.json({ hello: 'world' });
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startHello(
  framework: HelloFramework,
  variant: HelloVariant,
): Promise<Running> {
  const port = framework === 'fastify' ? await fastifyApp(variant) : await expressApp(variant);
  return { port, close: async () => {} };
}
