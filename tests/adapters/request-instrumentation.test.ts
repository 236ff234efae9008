import { afterEach, describe, expect, it } from 'vitest';
import { getContext, getCorrelationId } from '../../src/core/context.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { createDefaultLogger } from '../../src/core/logger.js';
import { configure, createEnterprise, type Enterprise, getEnterprise } from '../../src/index.js';
import {
  HTTP_OPERATION,
  RequestInstrumentation,
  statusClass,
} from '../../src/monitoring/request-instrumentation.js';
import { millisecondsJson } from '../../src/monitoring/request-line-batch.js';
import { BASIC_SECURITY_HEADERS, securityHeaders } from '../../src/monitoring/security-headers.js';
import { captureLines, manualClock, recordingLogger } from '../support/test-doubles.js';

function instance(clock = manualClock()) {
  const logger = recordingLogger();
  const enterprise = configureless({ logger, clock: clock.clock });
  return { enterprise, logger, clock };
}

const created: Enterprise[] = [];
/** An isolated instance (never the default), shut down after the test. */
function configureless(options: Parameters<typeof configure>[0]): Enterprise {
  const enterprise = createEnterprise({ ...options, performance: { systemMetrics: false } });
  created.push(enterprise);
  return enterprise;
}

afterEach(async () => {
  for (const enterprise of created.splice(0)) await enterprise.shutdown();
});

function lines(logger: ReturnType<typeof recordingLogger>) {
  return logger.calls.filter((call) => call.message === 'request completed');
}

describe('RequestInstrumentation', () => {
  it('times a request on the instance clock and labels it by template, method and status class', () => {
    const { enterprise, clock } = instance();
    const instrumentation = new RequestInstrumentation({ enterprise });
    const record = instrumentation.begin('GET', undefined);
    clock.advance(12);
    instrumentation.end(record, '/users/:id', 201);
    const stats = enterprise.performance.getStats(HTTP_OPERATION, {
      method: 'GET',
      route: '/users/:id',
      status_class: '2xx',
    });
    expect(stats?.windows.all.count).toBe(1);
    expect(stats?.windows.all.max).toBeCloseTo(12, 5);
  });

  it('counts only the first end of a request', () => {
    const { enterprise, logger } = instance();
    const instrumentation = new RequestInstrumentation({ enterprise });
    const record = instrumentation.begin('GET', undefined);
    instrumentation.end(record, '/a', 500);
    instrumentation.end(record, '/a', 200, true);
    expect(enterprise.performance.getStats(HTTP_OPERATION)?.windows.all.count).toBe(1);
    expect(lines(logger)).toHaveLength(1);
  });

  it('records unmatched, OTHER methods, aborted requests and 5xx errors with bounded labels', () => {
    const { enterprise } = instance();
    const instrumentation = new RequestInstrumentation({ enterprise, log: false });
    instrumentation.end(instrumentation.begin('PROPFIND', undefined), undefined, 404);
    instrumentation.end(instrumentation.begin('GET', undefined), '/slow', 200, true);
    instrumentation.end(instrumentation.begin('POST', undefined), '/boom', 503);
    const labels = enterprise.performance.operations().map((op) => op.labels);
    expect(labels).toContainEqual({ method: 'OTHER', route: 'unmatched', status_class: '4xx' });
    expect(labels).toContainEqual({ method: 'GET', route: '/slow', status_class: 'aborted' });
    const boom = enterprise.performance.getStats(HTTP_OPERATION, {
      method: 'POST',
      route: '/boom',
      status_class: '5xx',
    });
    expect(boom?.windows.all.errors).toBe(1);
  });

  it('maps statuses to classes', () => {
    expect([100, 204, 301, 404, 599, 600, 0].map(statusClass)).toEqual([
      '1xx',
      '2xx',
      '3xx',
      '4xx',
      '5xx',
      'other',
      'other',
    ]);
  });

  it('reuses a valid inbound id unless told not to trust it', () => {
    const { enterprise } = instance();
    expect(new RequestInstrumentation({ enterprise }).begin('GET', 'abc-1').correlationId).toBe(
      'abc-1',
    );
    expect(
      new RequestInstrumentation({ enterprise, trustRequestId: false }).begin('GET', 'abc-1')
        .correlationId,
    ).not.toBe('abc-1');
    expect(
      new RequestInstrumentation({ enterprise }).begin('GET', ['a', 'b']).correlationId,
    ).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('raises slow and span events for requests, with the correlation id', () => {
    const { enterprise, clock } = instance();
    const threshold = enterprise.performance.thresholdMs;
    const instrumentation = new RequestInstrumentation({ enterprise, log: false });
    const slow: { name: string; durationMs: number; correlationId?: string }[] = [];
    enterprise.performance.on('slow', (event) => slow.push(event));
    const fast = instrumentation.begin('GET', 'fast-1');
    clock.advance(threshold / 2);
    instrumentation.end(fast, '/a', 200);
    const late = instrumentation.begin('GET', 'slow-1');
    clock.advance(threshold + 5);
    instrumentation.end(late, '/a', 200);
    expect(slow).toEqual([
      expect.objectContaining({ name: HTTP_OPERATION, correlationId: 'slow-1' }),
    ]);
    expect(slow[0]?.durationMs).toBeCloseTo(threshold + 5, 5);
    expect(enterprise.performance.getStats(HTTP_OPERATION)?.windows.all.count).toBe(2);

    const spans: { name: string; durationMs: number; correlationId?: string; error: boolean }[] =
      [];
    enterprise.performance.on('span', (event) => spans.push(event));
    const failed = instrumentation.begin('POST', 'span-1');
    clock.advance(3);
    instrumentation.end(failed, '/b', 503);
    expect(spans).toEqual([
      expect.objectContaining({ name: HTTP_OPERATION, correlationId: 'span-1', error: true }),
    ]);
    expect(spans[0]?.durationMs).toBeCloseTo(3, 5);
  });

  it('runs the chain in a context with the id and http.request as the parent span', () => {
    const { enterprise } = instance();
    const instrumentation = new RequestInstrumentation({ enterprise });
    const record = instrumentation.begin('GET', 'ctx-1');
    const seen = instrumentation.run(record, () => [getCorrelationId(), getContext()?.span?.name]);
    expect(seen).toEqual(['ctx-1', HTTP_OPERATION]);
    // The context a handler sees has its two fields only, not the record's (instance, timings).
    const context = instrumentation.run(record, () => getContext());
    // ... and the request's trace: a new one, as no traceparent came in.
    const trace = record.trace!;
    expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(trace.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(context).toStrictEqual({
      correlationId: 'ctx-1',
      span: { name: HTTP_OPERATION, parent: undefined },
      trace,
    });
    expect(JSON.stringify(context)).toBe(
      `{"correlationId":"ctx-1","span":{"name":"${HTTP_OPERATION}"},"trace":${JSON.stringify(trace)}}`,
    );
    expect(getCorrelationId()).toBeUndefined();
  });

  it('gives the spans and slow warnings of a request its trace id', () => {
    const { enterprise, logger, clock } = instance();
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spans: [string, string | undefined][] = [];
    const slow: (string | undefined)[] = [];
    enterprise.performance.on('span', (event) => spans.push([event.name, event.traceId]));
    enterprise.performance.on('slow', (event) => slow.push(event.traceId));
    const instrumentation = new RequestInstrumentation({ enterprise, log: false });
    const record = instrumentation.begin('GET', 'span-1', `00-${trace}-00f067aa0ba902b7-01`);
    instrumentation.run(record, () =>
      enterprise.performance.context({ name: 'inner', thresholdMs: 1 }, () => clock.advance(5)),
    );
    instrumentation.end(record, '/x', 200);
    expect(spans).toEqual([
      ['inner', trace],
      [HTTP_OPERATION, trace],
    ]);
    expect(slow).toEqual([trace]);
    const warning = logger.calls.find((call) => call.message === 'slow operation');
    expect(warning?.fields).toMatchObject({ traceId: trace, spanId: record.trace!.spanId });
  });

  it('logs one line per request: info, warn for failures, skipping health probes, sampling', () => {
    const { enterprise, logger } = instance();
    const all = new RequestInstrumentation({ enterprise });
    all.end(all.begin('GET', 'ok-1'), '/users/:id', 200);
    all.end(all.begin('GET', 'fail-1'), '/users/:id', 502);
    all.end(all.begin('GET', 'probe'), '/api/v1/monitoring/health/live', 200);
    all.end(all.begin('GET', 'probe-down'), '/api/v1/monitoring/health/ready', 503);
    const byId = Object.fromEntries(lines(logger).map((line) => [line.fields.correlationId, line]));
    expect(byId['ok-1']?.level).toBe('info');
    expect(byId['ok-1']?.fields).toMatchObject({
      module: 'http',
      method: 'GET',
      route: '/users/:id',
      status: 200,
      aborted: false,
    });
    expect(byId['fail-1']?.level).toBe('warn');
    expect(byId.probe).toBeUndefined();
    expect(byId['probe-down']?.level).toBe('warn');

    const none = new RequestInstrumentation({ enterprise, log: { sampleRate: 0 } });
    const before = lines(logger).length;
    for (let i = 0; i < 20; i++) none.end(none.begin('GET', undefined), '/x', 200);
    none.end(none.begin('GET', undefined), '/x', 500);
    expect(lines(logger).length - before).toBe(1);

    const custom = new RequestInstrumentation({
      enterprise,
      log: { skip: (entry) => entry.route === '/quiet', message: 'done' },
    });
    custom.end(custom.begin('GET', 'quiet'), '/quiet', 200);
    custom.end(custom.begin('GET', 'loud'), '/loud', 200);
    const done = logger.calls.filter((call) => call.message === 'done');
    expect(done.map((call) => call.fields.correlationId)).toEqual(['loud']);
  });

  it('writes, through the default logger, byte for byte the line the logger writes for the entry', () => {
    const clock = manualClock();
    const real = configureless({ clock: clock.clock, env: {} });
    const out = captureLines();
    const logger = createDefaultLogger('info', out.stream);
    // The instance with its logger writing to `out`: the instrumentation takes the raw line path.
    const enterprise = Object.create(real, { logger: { value: logger } }) as Enterprise;
    const instrumentation = new RequestInstrumentation({ enterprise });
    const reference = logger.child({ module: 'http' });
    const cases: [string, string, number, number, boolean][] = [
      ['GET', '/users/:id', 200, 1.25, false],
      ['POST', '/a"b\\c/é', 201, 0, false],
      ['DELETE', '/orders', 503, 12.3456, false],
      ['PROPFIND', '/dav', 207, 1000.0005, false],
      ['GET', '/upload', 200, 0.0004, true],
      ['PUT', '/api/v1/monitoring/health/ready', 503, 7, false],
      // The same route and method again: the cached parts of a line by status and outcome.
      ['GET', '/users/:id', 404, 3, false],
      ['GET', '/users/:id', 200, 4, true],
      ['GET', '/users/:id', 200, 5, false],
    ];
    const startedAt = Date.now();
    const timeOf = (line: string | undefined) => Date.parse(JSON.parse(line ?? '{}').time);
    let lastBefore404 = Number.NaN;
    for (const [method, route, status, ms, aborted] of cases) {
      if (status === 404) {
        // A later wall-clock millisecond than the last line's: this line's time must be read afresh.
        lastBefore404 = timeOf(out.raw.at(-1));
        while (Date.now() <= lastBefore404);
      }
      const record = instrumentation.begin(method, `id-${status}`);
      clock.advance(ms);
      instrumentation.end(record, route, status, aborted);
      const entry = {
        method,
        route,
        status,
        durationMs: Math.round(ms * 1000) / 1000,
        correlationId: `id-${status}`,
        traceId: record.trace!.traceId,
        spanId: record.trace!.spanId,
        aborted,
      };
      if (aborted || status >= 500) reference.warn(entry, 'request completed');
      else reference.info(entry, 'request completed');
    }
    // A successful probe is skipped on the fast path as by the default skip.
    instrumentation.end(instrumentation.begin('GET', 'probe'), '/x/health/live', 200);
    const timeless = out.raw.map((line) => line.replace(/"time":"[^"]+"/, '"time":"T"'));
    expect(timeless).toHaveLength(cases.length * 2);
    // Each line's time is the wall clock's when it was written, as pino's is.
    const times = out.raw.filter((_, i) => i % 2 === 0).map(timeOf);
    expect(times[0]).toBeGreaterThanOrEqual(startedAt);
    expect(times[6]).toBeGreaterThan(lastBefore404);
    expect(times.at(-1)).toBeLessThanOrEqual(Date.now());
    for (let i = 0; i < cases.length; i++) expect(timeless[2 * i]).toBe(timeless[2 * i + 1]);
  });

  it('formats durations as JSON.stringify does the value rounded to the microsecond', () => {
    const values = [
      0, 0.0004, 0.0005, 0.001, 0.01, 0.1, 0.5, 1, 1.25, 12.3456, 999.9999, 1000.0005,
    ];
    for (let i = 0; i < 2000; i++) values.push(Math.random() * 10 ** ((i % 8) - 2));
    values.push(2_147_483.648, 1e12 + 0.123, -1, -0.0004, Number.NaN, Number.POSITIVE_INFINITY);
    for (const value of values) {
      expect(millisecondsJson(value), String(value)).toBe(
        JSON.stringify(Math.round(value * 1000) / 1000),
      );
    }
  });

  it('builds the header set from the options', () => {
    const { enterprise } = instance();
    const names = (options: ConstructorParameters<typeof RequestInstrumentation>[0]) =>
      new RequestInstrumentation({ enterprise, ...options }).headers.map(([name]) => name);
    const basic = Object.keys(BASIC_SECURITY_HEADERS).sort();
    expect(names({}).sort()).toEqual(basic);
    expect(names({ securityHeaders: true }).sort()).toEqual(basic);
    expect(names({ securityHeaders: 'basic' }).sort()).toEqual(basic);
    expect(names({}).sort()).not.toContain('content-security-policy');
    expect(names({ securityHeaders: 'helmet' }).sort()).toEqual(
      Object.keys(securityHeaders()).sort(),
    );
    expect(names({ securityHeaders: 'helmet' })).toContain('content-security-policy');
    expect(names({ securityHeaders: { contentSecurityPolicy: false } })).toContain(
      'strict-transport-security',
    );
    expect(names({ securityHeaders: { contentSecurityPolicy: false } })).not.toContain(
      'content-security-policy',
    );
    expect(names({ securityHeaders: false })).toEqual([]);
    expect(new RequestInstrumentation({ enterprise, securityHeaders: false }).hidePoweredBy).toBe(
      false,
    );
  });

  it('rejects invalid options with InvalidArgumentError', () => {
    for (const options of [
      { log: { sampleRate: 2 } },
      { log: { skip: 'no' } },
      { log: 'yes' },
      { securityHeaders: 'on' },
    ]) {
      expect(() => new RequestInstrumentation(options as never)).toThrow(InvalidArgumentError);
    }
  });

  it('follows configure() when no instance is given, and survives a monitor reset', () => {
    const first = configure({ logger: recordingLogger(), performance: { systemMetrics: false } });
    created.push(first);
    const instrumentation = new RequestInstrumentation();
    instrumentation.end(instrumentation.begin('GET', undefined), '/a', 200);
    expect(first.performance.getStats(HTTP_OPERATION)?.windows.all.count).toBe(1);
    first.performance.reset();
    instrumentation.end(instrumentation.begin('GET', undefined), '/a', 200);
    expect(first.performance.getStats(HTTP_OPERATION)?.windows.all.count).toBe(1);
    const second = configure({ logger: recordingLogger(), performance: { systemMetrics: false } });
    created.push(second);
    instrumentation.end(instrumentation.begin('GET', undefined), '/a', 200);
    expect(getEnterprise()).toBe(second);
    expect(second.performance.getStats(HTTP_OPERATION)?.windows.all.count).toBe(1);
  });
});
