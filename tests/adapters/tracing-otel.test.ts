import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enterpriseMiddleware } from '../../src/adapters/express.js';
import { getTraceContext } from '../../src/core/context.js';
import type { TraceContext } from '../../src/core/trace-context.js';
import type { Enterprise } from '../../src/index.js';
import type { RecordingLogger } from '../support/test-doubles.js';
import { closeServer, listen } from './helpers.js';
import { testEnterprise } from './suite.js';

// The middleware with an OpenTelemetry SDK registered: the request is a server span whose ids are
// the request context's, or the host's own server span when its instrumentation opened one.

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = '00f067aa0ba902b7';

describe('the middleware with an OpenTelemetry SDK', () => {
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;
  let enterprise: Enterprise;
  let logger: RecordingLogger;

  beforeAll(() => {
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    ({ enterprise, logger } = testEnterprise());
  });
  afterAll(async () => {
    await enterprise.shutdown();
    trace.disable();
    context.disable();
    await provider.shutdown();
  });

  /** An Express app behind `wrap` (the host's instrumentation, or nothing). */
  async function start(
    wrap: (handle: (req: IncomingMessage, res: ServerResponse) => void) => typeof handle = (h) => h,
  ) {
    const app = express();
    app.use(enterpriseMiddleware({ enterprise }));
    app.get('/orders/:id', (_req, res) => {
      enterprise.logger.info({}, 'order read');
      res.json({ trace: getTraceContext() });
    });
    app.get('/broken', (_req, res) => {
      res.status(502).json({ trace: getTraceContext() });
    });
    const server = createServer(wrap(app));
    return { url: await listen(server), close: () => closeServer(server) };
  }

  it('opens a server span continuing the traceparent, named after the route; its ids are the request context', async () => {
    exporter.reset();
    const app = await start();
    try {
      const response = await fetch(`${app.url}/orders/1`, {
        headers: { traceparent: `00-${TRACE}-${CALLER}-01`, tracestate: 'vendor=abc' },
      });
      const { trace: seen } = (await response.json()) as { trace: TraceContext };
      await until(() => exporter.getFinishedSpans().length > 0);
      const [span] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
      expect(span?.name).toBe('GET /orders/:id');
      expect(span?.parentSpanContext?.spanId).toBe(CALLER);
      expect(span?.spanContext().traceState?.get('vendor')).toBe('abc');
      expect(seen).toEqual({
        traceId: TRACE,
        spanId: span!.spanContext().spanId,
        traceFlags: 1,
        traceState: 'vendor=abc',
      });
      const line = logger.calls.find((call) => call.message === 'order read');
      expect(line?.fields).toMatchObject({ traceId: TRACE, spanId: seen.spanId });
    } finally {
      await app.close();
    }
  });

  it('marks a 5xx response as an error', async () => {
    exporter.reset();
    const app = await start();
    try {
      await (await fetch(`${app.url}/broken`)).arrayBuffer();
      await until(() => exporter.getFinishedSpans().length > 0);
      const [span] = exporter.getFinishedSpans();
      expect(span?.name).toBe('GET /broken');
      expect(span?.status.code).toBe(SpanStatusCode.ERROR);
      expect(span?.attributes['http.response.status_code']).toBe(502);
      // A new trace: no traceparent came in.
      expect(span?.parentSpanContext).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it("uses the host instrumentation's server span instead of opening a second one", async () => {
    exporter.reset();
    const tracer = trace.getTracer('host-http');
    const app = await start(
      (handle) => (req, res) =>
        tracer.startActiveSpan('host server', { kind: SpanKind.SERVER }, (span) => {
          res.on('close', () => span.end());
          handle(req, res);
        }),
    );
    try {
      const { trace: seen } = (await (await fetch(`${app.url}/orders/2`)).json()) as {
        trace: TraceContext;
      };
      await until(() => exporter.getFinishedSpans().length > 0);
      const servers = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
      expect(servers.map((s) => s.name)).toEqual(['host server']);
      expect(seen.traceId).toBe(servers[0]!.spanContext().traceId);
      expect(seen.spanId).toBe(servers[0]!.spanContext().spanId);
    } finally {
      await app.close();
    }
  });
});

async function until(probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for spans');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
