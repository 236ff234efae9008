import { createServer } from 'node:http';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { enterpriseMiddleware, monitoringRouter } from '../../src/adapters/express.js';
import { getCorrelationId } from '../../src/core/context.js';
import { closeServer, listen } from './helpers.js';
import {
  type AdapterHarness,
  bufferingCompression,
  describeAdapter,
  type HostOptions,
  TOKEN,
  testEnterprise,
} from './suite.js';

const harness: AdapterHarness = {
  compression: true,
  async start(options: HostOptions) {
    const app = express();
    app.use(enterpriseMiddleware({ enterprise: options.enterprise, security: options.security }));
    if (options.compression) app.use(bufferingCompression);
    app.use(express.json());
    // Mounted by Express at the prefix: the router sees paths relative to it.
    app.use(
      options.prefix,
      monitoringRouter({
        enterprise: options.enterprise,
        auth: options.auth,
        public: options.public,
        maxStreams: options.maxStreams,
      }),
    );
    app.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id, correlationId: getCorrelationId() });
    });
    app.post('/echo', (req, res) => {
      res.json({ body: req.body });
    });
    app.post('/login', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/fail', () => {
      throw new Error('boom');
    });
    // Express's default error handler prints the stack; keep test output quiet.
    app.use(
      (
        _error: unknown,
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        res.status(500).json({ error: 'boom' });
      },
    );
    const server = createServer(app);
    return { url: await listen(server), close: () => closeServer(server) };
  },
};

describeAdapter('express', harness);

describe('express monitoringRouter without the middleware', () => {
  it('does not advertise Express on the router responses', async () => {
    const { enterprise } = testEnterprise();
    const app = express();
    const router = monitoringRouter({ enterprise, auth: TOKEN });
    app.use('/monitoring', router);
    app.get('/other', (_req, res) => {
      res.send('ok');
    });
    const server = createServer(app);
    const url = await listen(server);
    try {
      const probe = await fetch(`${url}/monitoring/health/live`);
      await probe.arrayBuffer();
      expect(probe.status).toBe(200);
      expect(probe.headers.get('x-powered-by')).toBeNull();
      // The host's own responses are left as the host made them.
      const other = await fetch(`${url}/other`);
      await other.arrayBuffer();
      expect(other.headers.get('x-powered-by')).toBe('Express');
    } finally {
      await closeServer(server);
      await router.close();
      await enterprise.shutdown();
    }
  });
});

describe("express enterpriseMiddleware with securityHeaders: 'helmet'", () => {
  it("sets all of helmet's default headers, a header the handler sets winning", async () => {
    const { enterprise } = testEnterprise();
    const app = express();
    app.use(enterpriseMiddleware({ enterprise, securityHeaders: 'helmet' }));
    app.get('/page', (_req, res) => {
      res.setHeader('x-frame-options', 'DENY');
      res.send('<p>page</p>');
    });
    const server = createServer(app);
    const url = await listen(server);
    try {
      const response = await fetch(`${url}/page`);
      await response.text();
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(response.headers.get('strict-transport-security')).toContain('max-age=');
      expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    } finally {
      await closeServer(server);
      await enterprise.shutdown();
    }
  });
});
