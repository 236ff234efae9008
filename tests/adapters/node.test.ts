import { createServer } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { createMonitoringListener } from '../../src/adapters/node.js';
import { getCorrelationId } from '../../src/core/context.js';
import { closeServer, listen } from './helpers.js';
import {
  type AdapterHarness,
  bufferingCompression,
  describeAdapter,
  testEnterprise,
} from './suite.js';

const harness: AdapterHarness = {
  compression: true,
  async start(options) {
    const listener = createMonitoringListener({
      enterprise: options.enterprise,
      prefix: options.prefix,
      auth: options.auth,
      public: options.public,
      maxStreams: options.maxStreams,
      instrument: {
        enterprise: options.enterprise,
        security: options.security,
        routeOf: (req) => {
          const path = (req.url ?? '').split('?')[0]!;
          if (/^\/users\/[^/]+$/.test(path)) return '/users/:id';
          return path === '/echo' || path === '/fail' || path === '/login' ? path : undefined;
        },
      },
      handler: async (req, res) => {
        const path = (req.url ?? '').split('?')[0]!;
        const user = /^\/users\/([^/]+)$/.exec(path);
        const json = (status: number, body: unknown) => {
          res.statusCode = status;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(body));
        };
        if (user) return json(200, { id: user[1], correlationId: getCorrelationId() });
        if (path === '/echo') {
          const chunks: Buffer[] = [];
          for await (const chunk of req) chunks.push(chunk as Buffer);
          return json(200, { body: JSON.parse(Buffer.concat(chunks).toString()) });
        }
        if (path === '/fail') return json(500, { error: 'boom' });
        if (path === '/login' && req.method === 'POST') return json(200, { ok: true });
        return json(404, { error: 'not found' });
      },
    });
    const server = createServer((req, res) => {
      if (options.compression) bufferingCompression(req, res, () => listener(req, res));
      else listener(req, res);
    });
    return { url: await listen(server), close: () => closeServer(server) };
  },
};

describeAdapter('node', harness);

describe('node listener with a failing handler', () => {
  it('answers 500 for a handler that throws synchronously or rejects, and records 5xx', async () => {
    const { enterprise, logger } = testEnterprise();
    const listener = createMonitoringListener({
      enterprise,
      auth: 'token-0123456789',
      instrument: { enterprise, routeOf: (req) => req.url?.split('?')[0] },
      handler: (req) => {
        if (req.url === '/sync') throw new Error('sync boom');
        return Promise.reject(new Error('async boom'));
      },
    });
    const server = createServer(listener);
    const url = await listen(server);
    try {
      for (const path of ['/sync', '/async']) {
        const response = await fetch(`${url}${path}`);
        await response.arrayBuffer();
        expect(response.status, path).toBe(500);
        expect(response.headers.get('x-request-id'), path).toBeTruthy();
        await vi.waitFor(
          () => {
            const stats = enterprise.performance.getStats('http.request', {
              method: 'GET',
              route: path,
              status_class: '5xx',
            });
            expect(stats?.windows.all.count, path).toBe(1);
          },
          { timeout: 2000, interval: 10 },
        );
      }
      const failures = logger.calls.filter((call) => call.message === 'the request handler failed');
      expect(failures).toHaveLength(2);
    } finally {
      await closeServer(server);
      await listener.close();
      await enterprise.shutdown();
    }
  });
});

describe('node bridge request bodies', () => {
  it('answers 413 to an oversized body instead of running the action on part of it', async () => {
    const { enterprise, logger } = testEnterprise();
    const listener = createMonitoringListener({ enterprise, auth: 'token-0123456789' });
    const server = createServer(listener);
    const url = await listen(server);
    const headers = { authorization: 'Bearer token-0123456789' };
    try {
      const declared = await fetch(`${url}/api/v1/monitoring/tasks/dead/purge`, {
        method: 'POST',
        headers,
        body: new Uint8Array(2 * 1024 * 1024),
      });
      expect(declared.status).toBe(413);
      expect((await declared.json()) as unknown).toMatchObject({
        error: { code: 'E_PAYLOAD_TOO_LARGE' },
      });
      // Chunked, no Content-Length: the limit is enforced while reading.
      const chunk = new Uint8Array(256 * 1024);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 8) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const streamed = await fetch(`${url}/api/v1/monitoring/tasks/dead/purge`, {
        method: 'POST',
        headers,
        body,
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status).toBe(413);
      await streamed.arrayBuffer();
      // The router never saw either request: no action was logged.
      expect(logger.calls.some((call) => call.message === 'dead letter queue purged')).toBe(false);
      // A small body still goes through.
      const small = await fetch(`${url}/api/v1/monitoring/tasks/dead/purge`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{"reason":"ok"}',
      });
      await small.arrayBuffer();
      expect(small.status).not.toBe(413);
    } finally {
      await closeServer(server);
      await listener.close();
      await enterprise.shutdown();
    }
  });
});
