import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { enterpriseMiddleware, monitoringApp } from '../../src/adapters/hono.js';
import { getCorrelationId } from '../../src/core/context.js';
import { closeServer } from './helpers.js';
import { type AdapterHarness, describeAdapter } from './suite.js';

const harness: AdapterHarness = {
  async start(options) {
    const app = new Hono();
    app.use(
      '*',
      enterpriseMiddleware({ enterprise: options.enterprise, security: options.security }),
    );
    // A host middleware that reads the body first, as a validator would.
    app.use('*', async (c, next) => {
      if (c.req.header('content-type')?.includes('application/json')) await c.req.json();
      await next();
    });
    const monitoring = monitoringApp({
      enterprise: options.enterprise,
      auth: options.auth,
      public: options.public,
      maxStreams: options.maxStreams,
    });
    app.route(options.prefix, monitoring);
    app.get('/users/:id', (c) =>
      c.json({ id: c.req.param('id'), correlationId: getCorrelationId() }),
    );
    app.post('/echo', async (c) => c.json({ body: await c.req.json() }));
    app.post('/login', (c) => c.json({ ok: true }));
    app.get('/fail', () => {
      throw new Error('boom');
    });
    app.onError((_error, c) => c.json({ error: 'boom' }, 500));
    // Not the default: @hono/node-server replaces the global Request/Response unless told not to.
    const server = await new Promise<Server>((resolve) => {
      const s = serve(
        { fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false },
        () => resolve(s as Server),
      ) as Server;
    });
    const { port } = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}`,
      close: async () => {
        await monitoring.close();
        await closeServer(server);
      },
    };
  },
};

describeAdapter('hono', harness);
