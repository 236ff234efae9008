import { createServer } from 'node:http';
import Koa from 'koa';
import mount from 'koa-mount';
import { describe, expect, it, vi } from 'vitest';
import { enterpriseMiddleware, monitoringRouter } from '../../src/adapters/koa.js';
import { getCorrelationId } from '../../src/core/context.js';
import { closeServer, listen } from './helpers.js';
import {
  type AdapterHarness,
  bufferingCompression,
  describeAdapter,
  TOKEN,
  testEnterprise,
} from './suite.js';

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
    app.use(enterpriseMiddleware({ enterprise: options.enterprise, security: options.security }));
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
      if (ctx.method === 'POST' && ctx.path === '/login') {
        (ctx as { _matchedRoute?: string })._matchedRoute = '/login';
        ctx.body = { ok: true };
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

describe('koa monitoringRouter mounted with koa-mount', () => {
  it('answers under the mount path and records routes with it', async () => {
    const { enterprise } = testEnterprise();
    const app = new Koa();
    app.silent = true;
    app.use(enterpriseMiddleware({ enterprise }));
    // Another mounted app that passes a request on leaves `ctx.mountPath` behind.
    app.use(mount('/elsewhere', async (_ctx, next) => next()));
    const router = monitoringRouter({ enterprise, prefix: '', auth: TOKEN });
    app.use(mount('/ops', router));
    app.use(async (ctx) => {
      ctx.body = 'host';
    });
    const server = createServer(app.callback());
    const url = await listen(server);
    const auth = { authorization: `Bearer ${TOKEN}` };
    try {
      const health = await fetch(`${url}/ops/health`, { headers: auth });
      expect(health.status).toBe(200);
      expect((await health.json()) as object).toHaveProperty('status');

      const pageUrl = `${url}/ops/dashboard`;
      const page = await fetch(pageUrl);
      expect(page.status).toBe(200);
      const assets = [...(await page.text()).matchAll(/(?:src|href)="([^"]+\.(?:js|css)[^"]*)"/g)];
      expect(assets.length).toBeGreaterThan(0);
      for (const [, asset] of assets) {
        const response = await fetch(new URL(asset!, pageUrl));
        expect(response.status, asset).toBe(200);
        await response.arrayBuffer();
      }

      // Paths outside the mount reach the host, including after the other mount passed them on.
      for (const path of ['/health', '/elsewhere/health']) {
        const other = await fetch(`${url}${path}`);
        expect(await other.text(), path).toBe('host');
      }

      await vi.waitFor(
        () => {
          const routes = enterprise.performance
            .operations()
            .filter((op) => op.name === 'http.request')
            .map((op) => op.labels.route);
          expect(routes).toContain('/ops/health');
          expect(routes).toContain('/ops/dashboard');
          expect(routes).toContain('/ops/dashboard/assets/:file');
          expect(routes.filter((route) => route?.startsWith('/elsewhere'))).toEqual([]);
        },
        { timeout: 2000, interval: 10 },
      );
    } finally {
      await closeServer(server);
      await router.close();
      await enterprise.shutdown();
    }
  });
});
