import { randomUUID } from 'node:crypto';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, memoryTier, postgresTier, redisTier } from '../../src/cache/index.js';
import { POSTGRES_URL, postgres, REDIS_URL, redis, requires } from '../support/requirements.js';
import { adminClient, deleteKeys } from '../tasks/redis/helpers.js';

// With an OpenTelemetry SDK registered, each call of a remote cache tier is a client span with the
// tier and its level (L2 Redis, L3 PostgreSQL) as attributes, child of the caller's span.

describe.runIf(requires(redis) && requires(postgres))('cache tier spans', () => {
  const prefix = `test:cache-trace:${randomUUID().slice(0, 12)}`;
  const table = `cache_trace_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;

  beforeAll(() => {
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
    const admin = adminClient();
    await deleteKeys(admin, prefix);
    await admin.quit();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.end();
  });

  it('records L2 and L3 calls as client spans under the caller span', async () => {
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    const cache = createCache({
      tiers: [
        memoryTier(),
        redisTier({ url: REDIS_URL, prefix }),
        postgresTier({ connectionString: POSTGRES_URL, table }),
      ],
      logger: silent,
      bus: false,
    });
    try {
      const tracer = trace.getTracer('caller');
      await tracer.startActiveSpan('load user', async (span) => {
        await cache.getOrSet('user:1', async () => ({ id: 1 }), { ttl: 60 });
        span.end();
      });
      const spans = exporter.getFinishedSpans();
      const caller = spans.find((s) => s.name === 'load user')!;
      const clients = spans.filter((s) => s.kind === SpanKind.CLIENT);
      const byTier = (tier: string) =>
        clients.filter((s) => s.attributes['cache.tier'] === tier).map((s) => s.name);
      // A miss read through both remote tiers, then the value written to both.
      expect(byTier('redis')).toEqual(expect.arrayContaining(['cache.get', 'cache.set']));
      expect(byTier('postgres')).toEqual(expect.arrayContaining(['cache.get', 'cache.set']));
      for (const span of clients) {
        expect(span.attributes['cache.level']).toBe(
          span.attributes['cache.tier'] === 'redis' ? 'L2' : 'L3',
        );
        expect(span.attributes['cache.operation']).toBe(span.name.slice('cache.'.length));
        expect(span.spanContext().traceId).toBe(caller.spanContext().traceId);
        expect(span.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
      }
    } finally {
      await cache.close();
    }
  });
});
