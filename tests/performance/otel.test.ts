import { setTimeout as sleep } from 'node:timers/promises';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from './helpers.js';

let provider: BasicTracerProvider | undefined;

/** An SDK that keeps finished spans in memory; registered globally unless `global` is false. */
function sdk({ global = true } = {}) {
  const exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  if (global) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  }
  const spans = () => exporter.getFinishedSpans();
  const byName = (name: string): ReadableSpan => {
    const found = spans().filter((s) => s.name === name);
    if (found.length !== 1) throw new Error(`expected one span named ${name}, got ${found.length}`);
    return found[0]!;
  };
  return { exporter, spans, byName };
}

const isChildOf = (child: ReadableSpan, parent: ReadableSpan) =>
  child.parentSpanContext?.spanId === parent.spanContext().spanId &&
  child.spanContext().traceId === parent.spanContext().traceId;

afterEach(async () => {
  trace.disable();
  context.disable();
  await provider?.shutdown();
  provider = undefined;
});

describe('OpenTelemetry bridge', () => {
  it('mirrors context and wrap calls as spans with their names and attributes', async () => {
    const { spans, byName } = sdk();
    const { monitor } = setup(); // openTelemetry defaults to 'auto'
    expect(monitor.context('db.query', { table: 'users', limit: 10, cached: false }, () => 1)).toBe(
      1,
    );
    const fetchUser = monitor.wrap('fetch_user', async (id: string) => ({ id }), {
      attributes: { team: 'core' },
    });
    await expect(fetchUser('42')).resolves.toEqual({ id: '42' });
    expect(spans().map((s) => s.name)).toEqual(['db.query', 'fetch_user']);
    const query = byName('db.query');
    expect(query.attributes).toEqual({ table: 'users', limit: 10, cached: false });
    expect(query.status.code).toBe(SpanStatusCode.UNSET);
    expect(query.ended).toBe(true);
    expect(query.events).toEqual([]);
    expect(query.instrumentationScope.name).toBe('@revcopy/enterprise');
    expect(byName('fetch_user').attributes).toEqual({ team: 'core' });
    // Statistics are recorded as usual.
    expect(monitor.getStats('db.query')!.windows.all.count).toBe(1);
  });

  it('a span ends when the async call settles, not when it returns its promise', async () => {
    const { spans } = sdk();
    const { monitor } = setup();
    let release!: () => void;
    const pending = monitor.context('slow', () => new Promise<void>((r) => (release = r)));
    await sleep(1);
    expect(spans()).toEqual([]);
    release();
    await pending;
    expect(spans().map((s) => s.name)).toEqual(['slow']);
  });

  it.each([
    ['a sync throw of an Error', 'boom', true],
    ['a rejection with an Error', 'async boom', false],
  ] as const)('marks %s as ERROR with an exception event', async (_, message, sync) => {
    const { byName } = sdk();
    const { monitor } = setup();
    const error = new RangeError(message);
    if (sync) {
      expect(() =>
        monitor.context('fails', () => {
          throw error;
        }),
      ).toThrow(error);
    } else {
      await expect(monitor.context('fails', () => Promise.reject(error))).rejects.toBe(error);
    }
    const span = byName('fails');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message });
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
    expect(span.events[0]!.attributes).toMatchObject({
      'exception.type': 'RangeError',
      'exception.message': message,
    });
    expect(String(span.events[0]!.attributes!['exception.stacktrace'])).toContain('RangeError');
    expect(span.ended).toBe(true);
  });

  it('marks a non-Error thrown value as ERROR with its text', () => {
    const { byName } = sdk();
    const { monitor } = setup();
    expect(() =>
      monitor.context('fails', () => {
        throw 'plain string';
      }),
    ).toThrow('plain string');
    const span = byName('fails');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'plain string' });
    expect(span.events[0]!.attributes).toMatchObject({ 'exception.message': 'plain string' });
  });

  it('nested contexts make nested spans, across awaits', async () => {
    const { byName, spans } = sdk();
    const { monitor } = setup();
    await monitor.context('http.request', async () => {
      await sleep(1);
      await monitor.context('UserService.login', async () => {
        await Promise.resolve();
        monitor.context('db.query', () => undefined);
      });
      await Promise.all([
        monitor.context('cache.get', () => sleep(2)),
        monitor.context('cache.set', () => sleep(1)),
      ]);
    });
    const request = byName('http.request');
    expect(request.parentSpanContext).toBeUndefined();
    expect(isChildOf(byName('UserService.login'), request)).toBe(true);
    expect(isChildOf(byName('db.query'), byName('UserService.login'))).toBe(true);
    expect(isChildOf(byName('cache.get'), request)).toBe(true);
    expect(isChildOf(byName('cache.set'), request)).toBe(true);
    expect(new Set(spans().map((s) => s.spanContext().traceId)).size).toBe(1);
  });

  it('a span created with the OpenTelemetry tracer inside our context is a child of ours', async () => {
    const { byName } = sdk();
    const { monitor } = setup();
    const tracer = trace.getTracer('db-driver');
    await monitor.context('repository.find', async () => {
      await sleep(1);
      tracer.startActiveSpan('pg.query', (span) => span.end());
      const manual = tracer.startSpan('pg.connect');
      manual.end();
    });
    expect(isChildOf(byName('pg.query'), byName('repository.find'))).toBe(true);
    expect(isChildOf(byName('pg.connect'), byName('repository.find'))).toBe(true);
  });

  it('our span inside an active OpenTelemetry span is a child of it', async () => {
    const { byName } = sdk();
    const { monitor } = setup();
    const tracer = trace.getTracer('http-server');
    await tracer.startActiveSpan('GET /users', async (span) => {
      await sleep(1);
      await monitor.context('UserService.list', async () => undefined);
      span.end();
    });
    expect(isChildOf(byName('UserService.list'), byName('GET /users'))).toBe(true);
  });

  it('openTelemetry: false exports nothing even with an SDK registered', async () => {
    const { spans } = sdk();
    const { monitor } = setup({ performance: { openTelemetry: false } });
    monitor.context('a', () => undefined);
    await monitor.wrap('b', async () => undefined)();
    expect(() =>
      monitor.context('c', () => {
        throw new Error('x');
      }),
    ).toThrow();
    expect(spans()).toEqual([]);
    expect(monitor.getStats('c')!.windows.all.errors).toBe(1);
  });

  it("'auto' without a registered tracer provider exports nothing and still records", async () => {
    const { spans } = sdk({ global: false });
    const { monitor } = setup({ performance: { openTelemetry: 'auto' } });
    await monitor.context('a', async () => monitor.context('b', () => 1));
    expect(spans()).toEqual([]);
    expect(monitor.getStats('b')!.windows.all.count).toBe(1);
  });

  it('openTelemetry: true exports spans', () => {
    const { spans } = sdk();
    const { monitor } = setup({ performance: { openTelemetry: true } });
    monitor.context('a', () => undefined);
    expect(spans().map((s) => s.name)).toEqual(['a']);
  });

  it('a tracer that throws never breaks the monitored call', async () => {
    class BrokenTracerProvider {
      getTracer() {
        return {
          startSpan() {
            throw new Error('tracer bug');
          },
          startActiveSpan() {
            throw new Error('tracer bug');
          },
        };
      }
    }
    trace.setGlobalTracerProvider(new BrokenTracerProvider() as never);
    const { monitor, clock } = setup();
    expect(monitor.context('sync', () => 42)).toBe(42);
    await expect(monitor.wrap('async', async () => 'ok')()).resolves.toBe('ok');
    clock.advance(1);
    expect(monitor.getStats('sync')!.windows.all).toMatchObject({ count: 1, errors: 0 });
    expect(monitor.getStats('async')!.windows.all).toMatchObject({ count: 1, errors: 0 });
  });

  it("'auto' picks up a provider registered after the first span once the instance starts", async () => {
    const { enterprise, monitor } = setup();
    monitor.context('before', () => undefined);
    const { spans } = sdk();
    await enterprise.start();
    monitor.context('after', () => undefined);
    await enterprise.shutdown();
    expect(spans().map((s) => s.name)).toEqual(['after']);
  });
});
