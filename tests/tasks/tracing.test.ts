import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTraceContext } from '../../src/core/context.js';
import type { TraceContext } from '../../src/core/trace-context.js';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { RequestInstrumentation } from '../../src/monitoring/request-instrumentation.js';
import { redisTaskBackend } from '../../src/tasks/backends/redis.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import { type RecordingLogger, recordingLogger } from '../support/test-doubles.js';
import { adminClient, deleteKeys, testPrefix } from './redis/helpers.js';

// Without an OpenTelemetry SDK: a task carries the trace context it was submitted in, through
// the backend (memory, and Redis and back), to the handler's context and log lines.

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = '00f067aa0ba902b7';

/** An instance on `backend` whose `traced` handler reports the trace context it ran in. */
function tracedInstance(tasks: Record<string, unknown>): {
  enterprise: Enterprise;
  logger: RecordingLogger;
  seen: Map<string, TraceContext | undefined>;
} {
  const logger = recordingLogger();
  const enterprise = createEnterprise({
    logger,
    performance: { systemMetrics: false, openTelemetry: false },
    tasks,
  });
  const seen = new Map<string, TraceContext | undefined>();
  enterprise.tasks.register('traced', (payload: { key: string }) => {
    enterprise.logger.info({ key: payload.key }, 'traced handler');
    seen.set(payload.key, getTraceContext());
  });
  return { enterprise, logger, seen };
}

/** Submits `key` as a request with `traceparent` would: inside the middleware's context. */
async function submitInRequest(enterprise: Enterprise, key: string, traceparent?: string) {
  const instrumentation = new RequestInstrumentation({ enterprise, log: false });
  const record = instrumentation.begin('POST', `req-${key}`, traceparent, 'vendor=abc');
  const id = await instrumentation.run(record, () =>
    enterprise.tasks.submit('traced', { key }, { allowUnknown: true }),
  );
  instrumentation.end(record, '/submit', 200);
  return { id, request: record.trace! };
}

function describeBackend(name: string, tasks: () => Record<string, unknown>) {
  describe(`task trace context on the ${name} backend`, () => {
    let instance: ReturnType<typeof tracedInstance>;
    beforeAll(async () => {
      instance = tracedInstance(tasks());
      await instance.enterprise.start();
    });
    afterAll(async () => {
      await instance.enterprise.shutdown();
    });

    it('stores the submitting request trace context and runs the handler in that trace', async () => {
      const { enterprise, seen, logger } = instance;
      const { id, request } = await submitInRequest(
        enterprise,
        'in-request',
        `00-${TRACE}-${CALLER}-01`,
      );
      expect(request.traceId).toBe(TRACE);
      // The stored context is the request's: the span that submitted the task.
      const stored = await enterprise.tasks.get(id);
      expect(stored?.trace).toEqual({
        traceId: TRACE,
        spanId: request.spanId,
        traceFlags: 1,
        traceState: 'vendor=abc',
      });
      await enterprise.tasks.waitFor(id, { timeout: '10s' });
      const ran = seen.get('in-request');
      expect(ran?.traceId).toBe(TRACE);
      expect(ran?.traceState).toBe('vendor=abc');
      // The execution is a span of its own in that trace.
      expect(ran?.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(ran?.spanId).not.toBe(request.spanId);
      const line = logger.calls.find((call) => call.message === 'traced handler');
      expect(line?.fields).toMatchObject({ traceId: TRACE, spanId: ran!.spanId });
    });

    it('gives a task submitted outside any trace a trace of its own, kept by its execution', async () => {
      const { enterprise, seen } = instance;
      const id = await enterprise.tasks.submit(
        'traced',
        { key: 'outside' },
        { allowUnknown: true },
      );
      const stored = await enterprise.tasks.get(id);
      expect(stored?.trace?.traceId).toMatch(/^[0-9a-f]{32}$/);
      await enterprise.tasks.waitFor(id, { timeout: '10s' });
      expect(seen.get('outside')?.traceId).toBe(stored!.trace!.traceId);
    });

    it('gives the tasks of one submitMany the same context', async () => {
      const { enterprise } = instance;
      const instrumentation = new RequestInstrumentation({ enterprise, log: false });
      const record = instrumentation.begin('POST', 'batch', `00-${TRACE}-${CALLER}-00`);
      const ids = await instrumentation.run(record, () =>
        enterprise.tasks.submitMany([
          { name: 'traced', payload: { key: 'b1' }, options: { allowUnknown: true } },
          { name: 'traced', payload: { key: 'b2' }, options: { allowUnknown: true } },
        ]),
      );
      for (const id of ids) {
        const stored = await enterprise.tasks.get(id);
        // Unsampled stays unsampled.
        expect(stored?.trace).toMatchObject({ traceId: TRACE, traceFlags: 0 });
        expect(stored?.trace?.spanId).toBe(record.trace!.spanId);
      }
      for (const id of ids) await enterprise.tasks.waitFor(id, { timeout: '10s' });
    });
  });
}

describeBackend('memory', () => ({ queueName: 'traced' }));

describe.runIf(requires(redis))('through Redis', () => {
  const prefix = testPrefix('task-trace');
  let admin: Redis;
  beforeAll(() => {
    admin = adminClient();
  });
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    await admin.quit();
  });
  describeBackend('redis', () => ({
    queueName: 'traced',
    backend: redisTaskBackend({ url: REDIS_URL, prefix }),
  }));
});
