import Fastify from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { enterprisePlugin } from '../../src/adapters/fastify.js';
import { getCorrelationId } from '../../src/core/context.js';
import { type AdapterHarness, describeAdapter, TOKEN, testEnterprise } from './suite.js';

const harness: AdapterHarness = {
  async start(options) {
    const app = Fastify({ logger: false });
    try {
      await app.register(enterprisePlugin, {
        enterprise: options.enterprise,
        prefix: options.prefix,
        auth: options.auth,
        public: options.public,
        maxStreams: options.maxStreams,
        instrument: { security: options.security },
      });
      app.get('/users/:id', async (request) => ({
        id: (request.params as { id: string }).id,
        correlationId: getCorrelationId(),
      }));
      app.post('/echo', async (request) => ({ body: request.body }));
      app.post('/login', async () => ({ ok: true }));
      app.get('/fail', async () => {
        throw new Error('boom');
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
    } catch (error) {
      await app.close().catch(() => undefined);
      throw error;
    }
    const address = app.server.address() as { port: number };
    return { url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
  },
};

describeAdapter('fastify', harness);

describe('fastify plugin registered inside a prefixed context', () => {
  it('serves the router under the outer prefix too, with the full template as label', async () => {
    const { enterprise } = testEnterprise();
    const app = Fastify({ logger: false });
    await app.register(
      async (api) => {
        await api.register(enterprisePlugin, { enterprise, auth: TOKEN, prefix: '/monitoring' });
      },
      { prefix: '/api' },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    try {
      const live = await fetch(`${url}/api/monitoring/health/live?probe=1`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok' });
      const index = await fetch(`${url}/api/monitoring?x=1`);
      await index.arrayBuffer();
      expect(index.status).toBe(401);
      const metrics = await fetch(`${url}/api/monitoring/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      await metrics.arrayBuffer();
      expect(metrics.status).toBe(200);
      await vi.waitFor(
        () => {
          const stats = enterprise.performance.getStats('http.request', {
            method: 'GET',
            route: '/api/monitoring/metrics',
            status_class: '2xx',
          });
          expect(stats?.windows.all.count).toBe(1);
        },
        { timeout: 2000, interval: 10 },
      );
    } finally {
      await app.close();
      await enterprise.shutdown();
    }
  });
});
