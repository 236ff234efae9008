import { createServer, type Server } from 'node:http';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enterpriseMiddleware as expressMiddleware } from '../../src/adapters/express.js';
import { enterprisePlugin } from '../../src/adapters/fastify.js';
import { enterpriseMiddleware as honoMiddleware } from '../../src/adapters/hono.js';
import { getTraceContext } from '../../src/core/context.js';
import type { TraceContext } from '../../src/core/trace-context.js';
import type { Enterprise } from '../../src/index.js';
import type { RequestInstrumentationOptions } from '../../src/monitoring/request-instrumentation.js';
import type { RecordingLogger } from '../support/test-doubles.js';
import { closeServer, listen } from './helpers.js';
import { testEnterprise } from './suite.js';

// W3C trace context through real servers of three adapters: an inbound traceparent continued
// (same trace, a new span whose parent it is), anything invalid or missing starting a new trace,
// the ids in the handler's context and in every log line of the request.

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

type Start = (
  enterprise: Enterprise,
  options: RequestInstrumentationOptions,
) => Promise<{ url: string; close: () => Promise<void> }>;

/** What the route answers: the trace context its handler saw. */
interface Seen {
  trace: TraceContext | undefined;
}

const handle = (enterprise: Enterprise): Seen => {
  enterprise.logger.info({ step: 'handler' }, 'handling');
  return { trace: getTraceContext() };
};

const adapters: [string, Start][] = [
  [
    'express',
    async (enterprise, options) => {
      const app = express();
      app.use(expressMiddleware({ enterprise, ...options }));
      app.get('/trace/:id', (_req, res) => {
        res.json(handle(enterprise));
      });
      const server = createServer(app);
      return { url: await listen(server), close: () => closeServer(server) };
    },
  ],
  [
    'fastify',
    async (enterprise, options) => {
      const app = Fastify({ logger: false });
      await app.register(enterprisePlugin, { enterprise, monitoring: false, instrument: options });
      app.get('/trace/:id', async () => handle(enterprise));
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as { port: number };
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
    },
  ],
  [
    'hono',
    async (enterprise, options) => {
      const app = new Hono();
      app.use('*', honoMiddleware({ enterprise, ...options }));
      app.get('/trace/:id', (c) => c.json(handle(enterprise)));
      const server = await new Promise<Server>((resolve) => {
        const s = serve(
          { fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false },
          () => resolve(s as Server),
        ) as Server;
      });
      const { port } = server.address() as { port: number };
      return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
    },
  ],
];

describe.each(adapters)('W3C trace context through the %s middleware', (_name, start) => {
  let enterprise: Enterprise;
  let logger: RecordingLogger;
  let app: { url: string; close: () => Promise<void> };
  let untrusting: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    ({ enterprise, logger } = testEnterprise());
    app = await start(enterprise, {});
    untrusting = await start(enterprise, { tracing: { trustTraceparent: false } });
  });
  afterAll(async () => {
    await app.close();
    await untrusting.close();
    await enterprise.shutdown();
  });

  /** Sends a request with `headers`; the handler's trace, the response and the request's log lines. */
  async function send(headers: Record<string, string>, base = app.url) {
    const id = `req-${Math.random().toString(36).slice(2)}`;
    const response = await fetch(`${base}/trace/7`, {
      headers: { 'x-request-id': id, ...headers },
    });
    expect(response.status).toBe(200);
    const seen = (await response.json()) as Seen;
    // The request line is written once the response closed.
    const lines = await until(() => {
      const mine = logger.calls.filter((call) => call.fields.correlationId === id);
      return mine.some((call) => call.message === 'request completed') ? mine : undefined;
    });
    return { seen, response, lines };
  }

  it('continues a valid traceparent and its tracestate: same trace, a new span of its own', async () => {
    const { seen, response, lines } = await send({
      traceparent: `00-${TRACE}-${SPAN}-01`,
      tracestate: 'rojo=00f067aa0ba902b7, congo=t61rcWkgMzE',
    });
    expect(seen.trace).toMatchObject({
      traceId: TRACE,
      traceFlags: 1,
      traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    });
    expect(seen.trace!.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(seen.trace!.spanId).not.toBe(SPAN);
    // Every line of the request carries the ids: the handler's and the request line.
    expect(lines.map((line) => line.message).sort()).toEqual(['handling', 'request completed']);
    for (const line of lines) {
      expect(line.fields).toMatchObject({ traceId: TRACE, spanId: seen.trace!.spanId });
    }
    // Decided and documented: the response does not carry traceparent.
    expect(response.headers.get('traceparent')).toBeNull();
  });

  it('keeps an unsampled flag and reads a later version', async () => {
    expect((await send({ traceparent: `00-${TRACE}-${SPAN}-00` })).seen.trace).toMatchObject({
      traceId: TRACE,
      traceFlags: 0,
    });
    const later = await send({ traceparent: `01-${TRACE}-${SPAN}-01-future` });
    expect(later.seen.trace?.traceId).toBe(TRACE);
  });

  it.each([
    ['missing', {}],
    ['all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-${SPAN}-01` }],
    ['all-zero parent id', { traceparent: `00-${TRACE}-${'0'.repeat(16)}-01` }],
    ['version ff', { traceparent: `ff-${TRACE}-${SPAN}-01` }],
    ['upper case', { traceparent: `00-${TRACE.toUpperCase()}-${SPAN}-01` }],
    ['version 00 too long', { traceparent: `00-${TRACE}-${SPAN}-01-x` }],
    ['garbage', { traceparent: 'hello', tracestate: 'a=1' }],
  ])('starts a new trace when traceparent is %s', async (_what, headers) => {
    const { seen, lines } = await send(headers as Record<string, string>);
    expect(seen.trace!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.trace!.traceId).not.toBe(TRACE);
    expect(seen.trace!.traceId).not.toBe('0'.repeat(32));
    // A tracestate without a valid traceparent is not kept.
    expect(seen.trace!.traceState).toBeUndefined();
    for (const line of lines) expect(line.fields.traceId).toBe(seen.trace!.traceId);
  });

  it('drops an invalid tracestate and keeps the traceparent beside it', async () => {
    const { seen } = await send({
      traceparent: `00-${TRACE}-${SPAN}-01`,
      tracestate: 'Bad Key=1',
    });
    expect(seen.trace?.traceId).toBe(TRACE);
    expect(seen.trace?.traceState).toBeUndefined();
  });

  it('starts a new trace for every request with trustTraceparent: false', async () => {
    const { seen } = await send({ traceparent: `00-${TRACE}-${SPAN}-01` }, untrusting.url);
    expect(seen.trace!.traceId).not.toBe(TRACE);
    const again = await send({}, untrusting.url);
    expect(again.seen.trace!.traceId).not.toBe(seen.trace!.traceId);
  });
});

async function until<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for the request log line');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
