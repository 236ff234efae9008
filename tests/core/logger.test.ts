import { afterEach, describe, expect, it } from 'vitest';
import { createDefaultLogger, rawLineWriterOf, wrapLogger } from '../../src/core/logger.js';
import {
  createEnterprise,
  type Enterprise,
  type LoggerLike,
  withContext,
} from '../../src/index.js';
import {
  captureLines,
  manualClock,
  recordingLogger,
  throwingLogger,
} from '../support/test-doubles.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('the default logger', () => {
  it('writes one JSON line per call with level label, ISO time, message and fields', () => {
    const out = captureLines();
    const log = createDefaultLogger('info', out.stream);
    const before = Date.now();
    log.info({ key: 'user:1', hits: 3 }, 'cache warmed');
    expect(out.raw).toHaveLength(1);
    const [line] = out.json();
    expect(line).toMatchObject({
      level: 'info',
      message: 'cache warmed',
      key: 'user:1',
      hits: 3,
    });
    expect(line?.time).toMatch(ISO);
    const time = Date.parse(line?.time as string);
    expect(time).toBeGreaterThanOrEqual(before - 1_000);
    expect(time).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it('labels every level by name', () => {
    const out = captureLines();
    const log = createDefaultLogger('debug', out.stream);
    log.debug({}, 'd');
    log.info({}, 'i');
    log.warn({}, 'w');
    log.error({}, 'e');
    expect(out.json().map((line) => [line.level, line.message])).toEqual([
      ['debug', 'd'],
      ['info', 'i'],
      ['warn', 'w'],
      ['error', 'e'],
    ]);
  });

  it('carries module from child({ module })', () => {
    const out = captureLines();
    const log = createDefaultLogger('info', out.stream).child({ module: 'cache' });
    log.info({}, 'from the cache');
    expect(out.json()[0]).toMatchObject({ module: 'cache', message: 'from the cache' });
  });

  it('writes each field once, even when a child overrides a binding', () => {
    const out = captureLines();
    const log = createDefaultLogger('info', out.stream)
      .child({ module: 'enterprise' })
      .child({ module: 'cache' });
    log.info({}, 'nested');
    // Duplicate keys in a JSON line are read differently by different log pipelines.
    expect(out.raw[0]?.match(/"module":/g)).toHaveLength(1);
    expect(out.json()[0]?.module).toBe('cache');
  });

  it('adds the correlation id inside withContext, and none outside', async () => {
    const out = captureLines();
    const log = createDefaultLogger('info', out.stream).child({ module: 'http' });
    log.info({}, 'outside');
    await withContext({ correlationId: 'req-42' }, async () => {
      log.info({}, 'inside');
      await new Promise((resolve) => setTimeout(resolve, 1));
      log.info({}, 'inside, after a timer');
    });
    const [outside, inside, later] = out.json();
    expect(outside).not.toHaveProperty('correlationId');
    expect(inside?.correlationId).toBe('req-42');
    expect(later?.correlationId).toBe('req-42');
  });

  it('keeps an explicit correlationId field over the context one', () => {
    const out = captureLines();
    const log = createDefaultLogger('info', out.stream);
    withContext({ correlationId: 'from-context' }, () => {
      log.info({ correlationId: 'explicit' }, 'x');
    });
    expect(out.json()[0]?.correlationId).toBe('explicit');
    expect(out.raw[0]?.match(/"correlationId":/g)).toHaveLength(1);
  });

  it('serialises an err field with its type, message and stack', () => {
    const out = captureLines();
    createDefaultLogger('info', out.stream).error({ err: new TypeError('bad input') }, 'failed');
    const err = out.json()[0]?.err as Record<string, unknown>;
    expect(err).toMatchObject({ type: 'TypeError', message: 'bad input' });
    expect(err.stack).toEqual(expect.stringContaining('TypeError: bad input'));
  });

  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
    ['fatal', []],
    ['silent', []],
  ] as const)('at level %s writes only %j', (level, written) => {
    const out = captureLines();
    const log = createDefaultLogger(level, out.stream);
    log.debug({}, 'debug');
    log.info({}, 'info');
    log.warn({}, 'warn');
    log.error({}, 'error');
    expect(out.json().map((line) => line.level)).toEqual(written);
  });

  it('children inherit the level', () => {
    const out = captureLines();
    const log = createDefaultLogger('warn', out.stream).child({ module: 'tasks' });
    log.info({}, 'dropped');
    log.warn({}, 'kept');
    expect(out.json().map((line) => line.message)).toEqual(['kept']);
  });
});

describe("the default logger's raw line writer", () => {
  const FIELDS = {
    method: 'GET',
    route: '/a"b\\c/é',
    status: 200,
    durationMs: 1.25,
    correlationId: 'req-1',
    aborted: false,
  };
  const MEMBERS =
    '"method":"GET","route":"/a\\"b\\\\c/é","status":200,"durationMs":1.25,' +
    '"correlationId":"req-1","aborted":false';

  /** A line without its time, which differs between two calls. */
  const timeless = (line: string | undefined) => line?.replace(/"time":"[^"]+"/, '"time":"T"');

  it('writes byte for byte the line the logger writes for the same fields, bindings included', () => {
    const out = captureLines();
    const log = createDefaultLogger('info', out.stream).child({ module: 'http' });
    const raw = rawLineWriterOf(log);
    expect(raw).toBeDefined();
    log.info(FIELDS, 'request "completed"');
    raw?.write('info', MEMBERS, 'request "completed"');
    log.warn(FIELDS, 'request failed');
    raw?.write('warn', MEMBERS, 'request failed');
    expect(out.raw).toHaveLength(4);
    expect(timeless(out.raw[1])).toBe(timeless(out.raw[0]));
    expect(timeless(out.raw[3])).toBe(timeless(out.raw[2]));
    expect(out.json()[1]).toMatchObject({ ...FIELDS, module: 'http', level: 'info' });
    expect(out.json()[1]?.time).toMatch(ISO);
  });

  it('follows the level of the logger', () => {
    const out = captureLines();
    const raw = rawLineWriterOf(createDefaultLogger('warn', out.stream));
    raw?.write('info', '"a":1', 'dropped');
    raw?.write('warn', '"a":2', 'kept');
    expect(out.json().map((line) => [line.message, line.a])).toEqual([['kept', 2]]);
  });

  it('is offered by the default logger only, never by a host logger', () => {
    expect(rawLineWriterOf(wrapLogger(recordingLogger()))).toBeUndefined();
    expect(
      rawLineWriterOf(wrapLogger(recordingLogger()).child({ module: 'http' })),
    ).toBeUndefined();
  });
});

describe('a host logger', () => {
  let enterprise: Enterprise | undefined;

  afterEach(async () => {
    await enterprise?.shutdown();
    enterprise = undefined;
  });

  /** An instance with a 10 ms threshold and a call that takes 50 ms on its clock. */
  function slowCallThrough(logger: LoggerLike) {
    const time = manualClock();
    enterprise = createEnterprise({
      env: {},
      logger,
      clock: time.clock,
      performance: { alertThresholdMs: 10, systemMetrics: false },
    });
    const slow = enterprise.performance.wrap('checkout', (total: number) => {
      time.advance(50);
      return total * 2;
    });
    return { enterprise, slow };
  }

  it('receives the slow-call warning with the module binding on the line', () => {
    const host = recordingLogger();
    const { slow } = slowCallThrough(host);
    withContext({ correlationId: 'req-slow' }, () => slow(21));
    const warning = host.calls.find((call) => call.message === 'slow operation');
    expect(warning?.level).toBe('warn');
    expect(warning?.fields).toMatchObject({
      module: 'performance',
      operation: 'checkout',
      durationMs: 50,
      thresholdMs: 10,
      correlationId: 'req-slow',
    });
  });

  it('without child() gets the bindings merged into every line', () => {
    const host = recordingLogger({ withChild: false });
    expect(host.child).toBeUndefined();
    const { slow } = slowCallThrough(host);
    slow(1);
    const warning = host.calls.find((call) => call.message === 'slow operation');
    expect(warning?.fields).toMatchObject({ module: 'performance', operation: 'checkout' });
  });

  it('that throws from every method, child included, never breaks the caller', async () => {
    const host = throwingLogger();
    const { enterprise, slow } = slowCallThrough(host);
    expect(withContext(() => slow(21))).toBe(42);
    expect(slow(1)).toBe(2);
    expect(host.attempts).toBeGreaterThan(0);
    expect(enterprise.performance.getStats('checkout')?.windows.all).toMatchObject({
      count: 2,
      slow: 2,
      errors: 0,
    });
    await enterprise.start();
    await enterprise.shutdown();
    expect(enterprise.state).toBe('stopped');
  });

  it('that throws still lets monitored errors through unchanged', () => {
    const time = manualClock();
    enterprise = createEnterprise({
      env: {},
      logger: throwingLogger(),
      clock: time.clock,
      performance: { alertThresholdMs: 1, systemMetrics: false },
    });
    const failure = new Error('payment declined');
    const pay = enterprise.performance.wrap('pay', () => {
      time.advance(5);
      throw failure;
    });
    expect(pay).toThrow(failure);
    expect(enterprise.performance.getStats('pay')?.windows.all.errors).toBe(1);
  });

  it('wrapLogger adds the correlation id and never throws', () => {
    const host = recordingLogger();
    const log = wrapLogger(host);
    withContext({ correlationId: 'req-7' }, () => log.info({ a: 1 }, 'hello'));
    expect(host.calls[0]).toEqual({
      level: 'info',
      fields: { a: 1, correlationId: 'req-7' },
      message: 'hello',
    });
    const broken = wrapLogger(throwingLogger());
    expect(() => broken.error({}, 'x')).not.toThrow();
    expect(() => broken.child({ module: 'x' }).warn({}, 'y')).not.toThrow();
  });

  it('with methods that are not functions is ignored rather than crashing', () => {
    const log = wrapLogger({ debug: 1, info: null, warn: 'no', error: {} } as never);
    expect(() => log.info({}, 'x')).not.toThrow();
    expect(() => log.child({ module: 'm' }).error({}, 'x')).not.toThrow();
  });

  it('nested children without child() accumulate their bindings', () => {
    const host = recordingLogger({ withChild: false });
    wrapLogger(host).child({ module: 'cache' }).child({ tier: 'redis' }).info({}, 'x');
    expect(host.calls[0]?.fields).toEqual({ module: 'cache', tier: 'redis' });
  });
});
