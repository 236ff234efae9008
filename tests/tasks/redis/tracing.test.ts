import { createServer } from 'node:http';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import express from 'express';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enterpriseMiddleware } from '../../../src/adapters/express.js';
import { createEnterprise, type Enterprise } from '../../../src/index.js';
import { redisTaskBackend } from '../../../src/tasks/backends/redis.js';
import { closeServer, listen } from '../../adapters/helpers.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import { type RecordingLogger, recordingLogger } from '../../support/test-doubles.js';
import { adminClient, deleteKeys, spawnWorker, testPrefix } from './helpers.js';

/**
 * End-to-end tracing across two processes with the OpenTelemetry SDK's in-memory exporter: an
 * HTTP process (Express middleware) whose route reads the cache (memory, then Redis) and submits
 * a task to real Redis, and a worker child process that runs it. The request, the task and the
 * worker share the trace id; the worker's consumer span is the child of, and links to, the
 * producer span of the submission; the handler's log line carries the trace id.
 */

/** A span as the worker child prints it. */
interface ChildSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  links: string[];
  linkTraces: string[];
  attributes: Record<string, unknown>;
}

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

describe.runIf(requires(redis))('tracing from a request to a task run by another process', () => {
  let admin: Redis;
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;
  let enterprise: Enterprise;
  let logger: RecordingLogger;
  const prefix = testPrefix('tracing');
  const cachePrefix = `${prefix}:cache`;
  const queue = 'traced';

  beforeAll(() => {
    admin = adminClient();
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    logger = recordingLogger();
    enterprise = createEnterprise({
      logger,
      performance: { systemMetrics: false },
      cache: { redisUrl: REDIS_URL, prefix: cachePrefix },
      tasks: { backend: redisTaskBackend({ url: REDIS_URL, prefix }), queueName: queue },
    });
  });
  afterAll(async () => {
    await enterprise.shutdown();
    trace.disable();
    context.disable();
    await provider.shutdown();
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  it('shares the trace id from the request to the worker, the consumer span linked to the producer span', async () => {
    await enterprise.start({ workers: false });
    const child = spawnWorker('traced-worker.ts', { PREFIX: prefix, QUEUE: queue });
    const childLines: string[] = [];
    let childSpans: ChildSpan[] | undefined;
    try {
      await child.lines((line) => line === 'ready');
      const app = express();
      app.use(enterpriseMiddleware({ enterprise }));
      app.post('/orders/:id', async (req, res) => {
        const order = Number(req.params.id);
        await enterprise.cache.getOrSet(`order:${order}`, async () => ({ order }), { ttl: 60 });
        const id = await enterprise.tasks.submit('traced_job', { order }, { allowUnknown: true });
        res.json({ id });
      });
      const http = createServer(app);
      const url = await listen(http);
      let taskId: string;
      try {
        // The handler's log line goes through the logger's batched stdout: it may come after
        // the spans line, so reading stops once both are in.
        const done = child.lines((line) => {
          childLines.push(line);
          if (line.startsWith('spans ')) {
            childSpans = JSON.parse(line.slice('spans '.length)) as ChildSpan[];
          }
          return (
            childSpans !== undefined && childLines.some((l) => l.includes('"handling the order"'))
          );
        });
        const response = await fetch(`${url}/orders/42`, {
          method: 'POST',
          headers: { traceparent: `00-${TRACE}-${CALLER_SPAN}-01` },
        });
        expect(response.status).toBe(200);
        taskId = ((await response.json()) as { id: string }).id;
        await done;
      } finally {
        await closeServer(http);
      }

      // This process: the server span continues the caller's trace; the producer span and the
      // cache's remote calls are its children.
      const spans = exporter.getFinishedSpans();
      const one = (predicate: (span: ReadableSpan) => boolean, what: string) => {
        const found = spans.filter(predicate);
        expect(found, what).toHaveLength(1);
        return found[0]!;
      };
      const server = one((s) => s.kind === SpanKind.SERVER, 'server span');
      expect(server.name).toBe('POST /orders/:id');
      expect(server.spanContext().traceId).toBe(TRACE);
      expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
      expect(server.attributes).toMatchObject({
        'http.route': '/orders/:id',
        'http.response.status_code': 200,
      });
      const producer = one((s) => s.kind === SpanKind.PRODUCER, 'producer span');
      expect(producer.name).toBe(`send ${queue}`);
      expect(producer.spanContext().traceId).toBe(TRACE);
      expect(producer.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
      expect(producer.attributes).toMatchObject({
        'messaging.operation.type': 'send',
        'messaging.destination.name': queue,
        'messaging.message.id': taskId,
      });
      const cacheSpans = spans.filter((s) => s.kind === SpanKind.CLIENT);
      // A miss in Redis (L2), then the loaded value written there.
      expect(cacheSpans.map((s) => s.name)).toEqual(
        expect.arrayContaining(['cache.get', 'cache.set']),
      );
      for (const span of cacheSpans) {
        expect(span.spanContext().traceId).toBe(TRACE);
        expect(span.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
        expect(span.attributes).toMatchObject({ 'cache.tier': 'redis', 'cache.level': 'L2' });
      }

      // The stored task keeps the producer span's context through Redis.
      const stored = await enterprise.tasks.get(taskId);
      expect(stored?.trace).toMatchObject({
        traceId: TRACE,
        spanId: producer.spanContext().spanId,
      });

      // The worker process: a consumer span in the same trace, child of and linked to the
      // producer span; the handler's monitored call inside it.
      const consumer = childSpans!.find((s) => s.kind === SpanKind.CONSUMER);
      expect(consumer, JSON.stringify(childSpans)).toBeDefined();
      expect(consumer!.name).toBe(`process ${queue}`);
      expect(consumer!.traceId).toBe(TRACE);
      expect(consumer!.parentSpanId).toBe(producer.spanContext().spanId);
      expect(consumer!.links).toEqual([producer.spanContext().spanId]);
      expect(consumer!.linkTraces).toEqual([TRACE]);
      expect(consumer!.attributes).toMatchObject({
        'messaging.operation.type': 'process',
        'messaging.destination.name': queue,
        'messaging.message.id': taskId,
        'task.name': 'traced_job',
      });
      const charge = childSpans!.find((s) => s.name === 'charge_card');
      expect(charge?.traceId).toBe(TRACE);
      expect(charge?.parentSpanId).toBe(consumer!.spanId);

      // The handler's log line carries the trace id and the consumer span's id.
      const handled = childLines
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => line.message === 'handling the order');
      expect(handled, childLines.join('\n')).toMatchObject({
        order: 42,
        traceId: TRACE,
        spanId: consumer!.spanId,
      });
      // And the request's own log line here, the server span's ids.
      const requestLine = logger.calls.find((call) => call.message === 'request completed');
      expect(requestLine?.fields).toMatchObject({
        traceId: TRACE,
        spanId: server.spanContext().spanId,
      });
    } finally {
      child.process.kill('SIGTERM');
      await child.exited;
    }
  });
});
