import { createServer } from 'node:http';
import Koa from 'koa';
import { enterpriseMiddleware, monitoringRouter } from '../../src/adapters/koa.js';
import { getCorrelationId } from '../../src/core/context.js';
import { closeServer, listen } from './helpers.js';
import { type AdapterHarness, bufferingCompression, describeAdapter } from './suite.js';

/** A JSON body parser in the way koa-bodyparser works: reads the stream into ctx.request.body. */
async function jsonBody(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  if (ctx.method !== 'GET' && ctx.is('application/json')) {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    (ctx.request as { body?: unknown }).body = JSON.parse(
      Buffer.concat(chunks).toString() || 'null',
    );
  }
  await next();
}

const harness: AdapterHarness = {
  compression: true,
  async start(options) {
    const app = new Koa();
    app.silent = true;
    app.use(enterpriseMiddleware({ enterprise: options.enterprise }));
    if (options.compression) {
      app.use(
        (ctx, next) =>
          new Promise((resolve, reject) => {
            bufferingCompression(ctx.req, ctx.res, () => next().then(resolve, reject));
          }),
      );
    }
    app.use(jsonBody);
    app.use(
      monitoringRouter({
        enterprise: options.enterprise,
        prefix: options.prefix,
        auth: options.auth,
        public: options.public,
        maxStreams: options.maxStreams,
      }),
    );
    // A minimal router setting ctx._matchedRoute as @koa/router does.
    app.use(async (ctx, next) => {
      const user = /^\/users\/([^/]+)$/.exec(ctx.path);
      if (ctx.method === 'GET' && user) {
        (ctx as { _matchedRoute?: string })._matchedRoute = '/users/:id';
        ctx.body = { id: user[1], correlationId: getCorrelationId() };
        return;
      }
      if (ctx.method === 'POST' && ctx.path === '/echo') {
        (ctx as { _matchedRoute?: string })._matchedRoute = '/echo';
        ctx.body = { body: (ctx.request as { body?: unknown }).body };
        return;
      }
      if (ctx.method === 'GET' && ctx.path === '/fail') {
        (ctx as { _matchedRoute?: string })._matchedRoute = '/fail';
        throw new Error('boom');
      }
      await next();
    });
    const server = createServer(app.callback());
    return { url: await listen(server), close: () => closeServer(server) };
  },
};

describeAdapter('koa', harness);
