import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise, type TaskOptions } from '../../src/index.js';
import {
  backgroundTask,
  memoryTaskBackend,
  type TaskBackend,
  type TaskContext,
  TaskPriority,
  type TaskStats,
  unregisterTask,
} from '../../src/tasks/index.js';
import { eventually } from './pool-helpers.js';

const instances: Enterprise[] = [];

function make(tasks: TaskOptions = {}): Enterprise {
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
    tasks: { backoff: { delay: '10ms', jitter: 0 }, ...tasks },
  });
  instances.push(enterprise);
  return enterprise;
}

afterEach(async () => {
  await Promise.all(instances.splice(0).map((e) => e.shutdown()));
});

describe('submitting and running tasks', () => {
  it('runs a handler with the payload and context, and stores the result', async () => {
    const e = make();
    const contexts: TaskContext[] = [];
    e.tasks.register('add', (payload: { a: number; b: number }, context) => {
      contexts.push(context);
      return payload.a + payload.b;
    });
    await e.start();
    const id = await e.tasks.submit('add', { a: 2, b: 3 });
    const info = await e.tasks.waitFor(id, { timeout: 5 });
    expect(info).toMatchObject({ id, name: 'add', state: 'completed', result: 5, attempts: 1 });
    expect(info.payload).toEqual({ a: 2, b: 3 });
    expect(info.finishedAt).toBeInstanceOf(Date);
    expect(contexts[0]).toMatchObject({ id, name: 'add', queue: 'default', attempt: 1 });
    expect(contexts[0]!.signal).toBeInstanceOf(AbortSignal);
  });

  it('keeps an omitted payload undefined and a null payload null', async () => {
    const e = make();
    const seen: unknown[] = [];
    e.tasks.register('echo', (payload) => {
      seen.push(payload);
    });
    await e.start();
    const a = await e.tasks.submit('echo');
    const b = await e.tasks.submit('echo', null);
    await e.tasks.waitFor(a, { timeout: 5 });
    await e.tasks.waitFor(b, { timeout: 5 });
    expect(seen).toEqual([undefined, null]);
    expect((await e.tasks.get(a))?.result).toBeUndefined();
  });

  it('creates one task for an id submitted twice', async () => {
    const e = make();
    let runs = 0;
    e.tasks.register('once', () => {
      runs += 1;
    });
    const first = await e.tasks.submit('once', 1, { id: 'fixed-id' });
    const second = await e.tasks.submit('once', 2, { id: 'fixed-id' });
    expect(second).toBe(first);
    await e.start();
    await e.tasks.waitFor('fixed-id', { timeout: 5 });
    await sleep(30);
    expect(runs).toBe(1);
    expect((await e.tasks.get('fixed-id'))?.payload).toBe(1);
  });

  it('runs by priority, then in submission order', async () => {
    const e = make({ workerCount: 1 });
    const order: string[] = [];
    e.tasks.register('rec', (label: string) => {
      order.push(label);
    });
    await e.tasks.submit('rec', 'low', { priority: TaskPriority.LOW });
    await e.tasks.submit('rec', 'normal-1');
    await e.tasks.submit('rec', 'critical', { priority: TaskPriority.CRITICAL });
    await e.tasks.submit('rec', 'normal-2', { priority: 50 });
    const last = await e.tasks.submit('rec', 'high', { priority: TaskPriority.HIGH });
    await e.start();
    await eventually(() => order.length === 5, 'all tasks');
    expect(order).toEqual(['critical', 'high', 'normal-1', 'normal-2', 'low']);
    expect((await e.tasks.get(last))?.priority).toBe(25);
  });

  it('runs a delayed task no sooner than its delay', async () => {
    const e = make();
    let ranAt = 0;
    e.tasks.register('later', () => {
      ranAt = Date.now();
    });
    await e.start();
    const submitted = Date.now();
    const id = await e.tasks.submit('later', null, { delay: '200ms' });
    expect((await e.tasks.get(id))?.state).toBe('delayed');
    await e.tasks.waitFor(id, { timeout: 5 });
    expect(ranAt - submitted).toBeGreaterThanOrEqual(190);
  });

  it('submits many tasks in one call, with dependencies inside the call', async () => {
    const e = make({ workerCount: 4 });
    const order: string[] = [];
    e.tasks.register('step', async (label: string) => {
      await sleep(label === 'extract' ? 50 : 1);
      order.push(label);
    });
    const ids = await e.tasks.submitMany([
      { name: 'step', payload: 'report', options: { dependsOn: ['x1', 'x2'] } },
      { name: 'step', payload: 'extract', options: { id: 'x1' } },
      { name: 'step', payload: 'transform', options: { id: 'x2', dependsOn: ['x1'] } },
    ]);
    expect(ids.slice(1)).toEqual(['x1', 'x2']);
    expect((await e.tasks.get(ids[0]!))?.state).toBe('blocked');
    await e.start();
    await e.tasks.waitFor(ids[0]!, { timeout: 5 });
    expect(order).toEqual(['extract', 'transform', 'report']);
  });
});

describe('bad input', () => {
  it('refuses payloads JSON cannot hold, naming the path', async () => {
    const e = make();
    e.tasks.register('p', () => {});
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    const cases: [unknown, RegExp][] = [
      [{ onDone: () => {} }, /payload\.onDone .* function/],
      [{ s: Symbol('x') }, /payload\.s .* symbol/],
      [{ n: 10n }, /payload\.n .* BigInt/],
      [cycle, /payload\.self .* cycle/],
      [{ list: [1, Number.NaN] }, /payload\.list\[1\] .* NaN/],
      [new Map([[1, 2]]), /payload .* Map/],
    ];
    for (const [payload, message] of cases) {
      await expect(e.tasks.submit('p', payload)).rejects.toMatchObject({
        code: 'E_TASK_PAYLOAD',
        message: expect.stringMatching(message),
      });
    }
    expect((await e.tasks.stats()).queues[0]?.waiting ?? 0).toBe(0);
  });

  it('refuses an unknown name when this process has handlers, unless allowed', async () => {
    const e = make();
    e.tasks.register('known', () => {});
    await expect(e.tasks.submit('knwon', {})).rejects.toMatchObject({ code: 'E_TASK_UNKNOWN' });
    const id = await e.tasks.submit('knwon', {}, { allowUnknown: true });
    expect((await e.tasks.get(id))?.state).toBe('waiting');
    const lax = make({ strictNames: false });
    lax.tasks.register('known', () => {});
    await expect(lax.tasks.submit('other', {})).resolves.toEqual(expect.any(String));
  });

  it('accepts any name in a process without handlers (a submit-only process)', async () => {
    const submitter = make();
    await expect(submitter.tasks.submit('handled_elsewhere', { x: 1 })).resolves.toEqual(
      expect.any(String),
    );
  });

  it('records a clear failure, never a lost task, when a worker has no handler for a claimed task', async () => {
    const backend = memoryTaskBackend();
    const submitter = make({ backend });
    const id = await submitter.tasks.submit('nobody_handles', {}, { maxRetries: 1 });
    const worker = make({ backend });
    worker.tasks.register('something_else', () => {});
    await worker.start();
    await expect(worker.tasks.waitFor(id, { timeout: 5 })).rejects.toMatchObject({
      code: 'E_TASK_FAILED',
    });
    const dead = await worker.tasks.get(id);
    expect(dead).toMatchObject({ state: 'dead', attempts: 2 });
    expect(dead?.error).toMatchObject({ name: 'TaskUnknownError', code: 'E_TASK_UNKNOWN' });
    expect(dead?.error?.message).toContain('nobody_handles');
    expect((await worker.tasks.deadLetters.list()).map((t) => t.id)).toEqual([id]);
  });

  it('rejects a dependency cycle within a call and stores nothing', async () => {
    const e = make();
    e.tasks.register('c', () => {});
    await expect(
      e.tasks.submitMany([
        { name: 'c', options: { id: 'a', dependsOn: ['c'] } },
        { name: 'c', options: { id: 'b', dependsOn: ['a'] } },
        { name: 'c', options: { id: 'c', dependsOn: ['b'] } },
      ]),
    ).rejects.toMatchObject({
      code: 'E_TASK_DEPENDENCY',
      message: expect.stringContaining('cycle'),
    });
    await expect(
      e.tasks.submit('c', null, { id: 'self', dependsOn: ['self'] }),
    ).rejects.toMatchObject({
      code: 'E_TASK_DEPENDENCY',
    });
    expect(await e.tasks.get('a')).toBeUndefined();
  });

  it('rejects an unknown dependency id', async () => {
    const e = make();
    e.tasks.register('d', () => {});
    await expect(e.tasks.submit('d', null, { dependsOn: ['missing'] })).rejects.toMatchObject({
      code: 'E_TASK_DEPENDENCY',
    });
  });

  it('rejects bad options with the option named', async () => {
    const e = make();
    e.tasks.register('o', () => {});
    const bad: [object, string][] = [
      [{ priority: 101 }, 'options.priority'],
      [{ priority: 1.5 }, 'options.priority'],
      [{ maxRetries: -1 }, 'options.maxRetries'],
      [{ delay: 'soon' }, 'options.delay'],
      [{ queue: 'no spaces' }, 'options.queue'],
      [{ id: '' }, 'options.id'],
      [{ dependsOn: 'x' }, 'options.dependsOn'],
      [{ backoff: { factor: 0.5 } }, 'options.backoff.factor'],
    ];
    for (const [options, argument] of bad) {
      await expect(e.tasks.submit('o', null, options as never)).rejects.toMatchObject({
        code: 'E_INVALID_ARGUMENT',
        context: expect.objectContaining({ argument }),
      });
    }
  });

  it('rejects bad task configuration when the instance is created', () => {
    expect(() =>
      createEnterprise({ env: {}, logLevel: 'silent', tasks: { concurrency: { min: 5, max: 2 } } }),
    ).toThrow(/tasks\.concurrency\.min/);
    expect(() =>
      createEnterprise({ env: {}, logLevel: 'silent', tasks: { backend: 'mongo' as never } }),
    ).toThrow(/tasks\.backend/);
    expect(() => createEnterprise({ env: {}, logLevel: 'silent', tasks: { leaseMs: 5 } })).toThrow(
      /tasks\.leaseMs/,
    );
  });
});

describe('failures, retries and the dead letter queue', () => {
  it('retries with backoff, then succeeds, emitting failed and retried', async () => {
    const e = make();
    let calls = 0;
    e.tasks.register('flaky', () => {
      calls += 1;
      if (calls < 3) throw new TypeError(`attempt ${calls} failed`);
      return 'ok';
    });
    const events: string[] = [];
    e.tasks.on('failed', (ev) => events.push(`failed:${ev.attempt}:${ev.willRetry}`));
    e.tasks.on('retried', (ev) => events.push(`retried:${ev.attempt}:${ev.delayMs}`));
    e.tasks.on('completed', (ev) => events.push(`completed:${ev.attempt}`));
    await e.start();
    const id = await e.tasks.submit('flaky', null, {
      backoff: { type: 'exponential', delay: '20ms', factor: 2, jitter: 0 },
    });
    const info = await e.tasks.waitFor(id, { timeout: 5 });
    expect(info).toMatchObject({ state: 'completed', attempts: 3, result: 'ok' });
    expect(info.error).toMatchObject({ name: 'TypeError', message: 'attempt 2 failed' });
    expect(events).toEqual([
      'failed:1:true',
      'retried:1:20',
      'failed:2:true',
      'retried:2:40',
      'completed:3',
    ]);
  });

  it('moves a task out of retries to the dead letter queue with error, stack, attempts and payload', async () => {
    const e = make();
    e.tasks.register('broken', () => {
      throw new RangeError('always');
    });
    const dead: string[] = [];
    e.tasks.on('dead', (ev) => dead.push(`${ev.id}:${ev.attempts}:${ev.error.name}`));
    await e.start();
    const id = await e.tasks.submit('broken', { order: 7 }, { maxRetries: 2 });
    const failure = await e.tasks.waitFor(id, { timeout: 5 }).catch((error) => error);
    expect(failure).toMatchObject({ code: 'E_TASK_FAILED', name: 'TaskFailedError' });
    expect(failure.cause).toBeInstanceOf(Error);
    expect(failure.cause.name).toBe('RangeError');
    const [entry] = await e.tasks.deadLetters.list();
    expect(entry).toMatchObject({ id, state: 'dead', attempts: 3, payload: { order: 7 } });
    expect(entry?.error?.stack).toContain('RangeError: always');
    expect(dead).toEqual([`${id}:3:RangeError`]);
  });

  it('retries a dead task from the dead letter queue, and purges', async () => {
    const e = make();
    let fail = true;
    e.tasks.register('fixable', () => {
      if (fail) throw new Error('not yet');
      return 'fixed';
    });
    await e.start();
    const id = await e.tasks.submit('fixable', null, { maxRetries: 0 });
    await e.tasks.waitFor(id, { timeout: 5 }).catch(() => {});
    fail = false;
    expect(await e.tasks.deadLetters.retry(id)).toBe(true);
    expect(await e.tasks.deadLetters.retry(id)).toBe(false);
    expect((await e.tasks.waitFor(id, { timeout: 5 })).result).toBe('fixed');
    fail = true;
    const other = await e.tasks.submit('fixable', null, { maxRetries: 0 });
    await e.tasks.waitFor(other, { timeout: 5 }).catch(() => {});
    expect(await e.tasks.deadLetters.purge()).toBe(1);
    expect(await e.tasks.deadLetters.list()).toEqual([]);
  });

  it('lists, retries and purges dead tasks across queues, or in one', async () => {
    const e = make({ queues: ['other'] });
    e.tasks.register('fails_default', () => {
      throw new Error('d');
    });
    e.tasks.register(
      'fails_other',
      () => {
        throw new Error('o');
      },
      { queue: 'other' },
    );
    await e.start();
    const a = await e.tasks.submit('fails_default', null, { maxRetries: 0 });
    await e.tasks.waitFor(a, { timeout: 5 }).catch(() => {});
    await sleep(5);
    const b = await e.tasks.submit('fails_other', null, { maxRetries: 0 });
    await e.tasks.waitFor(b, { timeout: 5 }).catch(() => {});
    expect((await e.tasks.get(b))?.queue).toBe('other');
    expect((await e.tasks.deadLetters.list()).map((t) => t.id)).toEqual([b, a]);
    expect((await e.tasks.deadLetters.list({ queue: 'other' })).map((t) => t.id)).toEqual([b]);
    expect((await e.tasks.deadLetters.list({ offset: 1, limit: 1 })).map((t) => t.id)).toEqual([a]);
    expect(await e.tasks.deadLetters.purge({ queue: 'other' })).toBe(1);
    expect((await e.tasks.deadLetters.list()).map((t) => t.id)).toEqual([a]);
    expect(await e.tasks.deadLetters.purge()).toBe(1);
    await expect(e.tasks.deadLetters.list({ limit: -1 })).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
    });
  });

  it('records a thrown non-Error as NonError with the value described', async () => {
    const e = make();
    e.tasks.register('throws_string', () => {
      throw 'plain string';
    });
    e.tasks.register('rejects_object', () => Promise.reject({ reason: 42 }));
    await e.start();
    const a = await e.tasks.submit('throws_string', null, { maxRetries: 0 });
    const b = await e.tasks.submit('rejects_object', null, { maxRetries: 0 });
    await Promise.allSettled([
      e.tasks.waitFor(a, { timeout: 5 }),
      e.tasks.waitFor(b, { timeout: 5 }),
    ]);
    expect((await e.tasks.get(a))?.error).toEqual({
      name: 'NonError',
      message: 'a non-Error was thrown: "plain string"',
    });
    expect((await e.tasks.get(b))?.error?.message).toContain('{"reason":42}');
  });

  it('times out a handler that never settles, aborts its signal and frees its slot', async () => {
    const e = make({ workerCount: 1 });
    let aborted: unknown;
    e.tasks.register('hangs', (_p, { signal }) => {
      signal.addEventListener('abort', () => {
        aborted = signal.reason;
      });
      return new Promise(() => {});
    });
    e.tasks.register('quick', () => 'done');
    await e.start();
    const hung = await e.tasks.submit('hangs', null, { timeout: '100ms', maxRetries: 0 });
    const quick = await e.tasks.submit('quick');
    const started = Date.now();
    await expect(e.tasks.waitFor(hung, { timeout: 5 })).rejects.toMatchObject({
      code: 'E_TASK_FAILED',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await e.tasks.get(hung))?.error).toMatchObject({
      name: 'TaskTimeoutError',
      code: 'E_TASK_TIMEOUT',
    });
    expect(aborted).toMatchObject({ code: 'E_TASK_TIMEOUT' });
    // The only slot was freed: the next task ran.
    expect((await e.tasks.waitFor(quick, { timeout: 5 })).result).toBe('done');
  });

  it('hands an already aborted signal to a handler that reads it after its timeout', async () => {
    const e = make();
    let late: AbortSignal | undefined;
    e.tasks.register('reads_late', async (_p, context) => {
      await sleep(150);
      late = context.signal;
    });
    await e.start();
    const id = await e.tasks.submit('reads_late', null, { timeout: '30ms', maxRetries: 0 });
    await expect(e.tasks.waitFor(id, { timeout: 5 })).rejects.toMatchObject({
      code: 'E_TASK_FAILED',
    });
    await eventually(() => late !== undefined, 'the handler to read its signal');
    expect(late?.aborted).toBe(true);
    expect(late?.reason).toMatchObject({ code: 'E_TASK_TIMEOUT' });
  });

  it('kills dependents of a dead task unless told otherwise', async () => {
    const e = make();
    e.tasks.register('parent', () => {
      throw new Error('parent failed');
    });
    e.tasks.register('child', () => 'ran');
    const dead: string[] = [];
    e.tasks.on('dead', (ev) => dead.push(ev.name));
    const parent = await e.tasks.submit('parent', null, { maxRetries: 0 });
    const strict = await e.tasks.submit('child', null, { dependsOn: [parent] });
    const lenient = await e.tasks.submit('child', null, {
      dependsOn: [parent],
      failOnDependencyFailure: false,
    });
    await e.start();
    await expect(e.tasks.waitFor(strict, { timeout: 5 })).rejects.toMatchObject({
      message: expect.stringContaining(parent),
    });
    expect((await e.tasks.waitFor(lenient, { timeout: 5 })).result).toBe('ran');
    await eventually(() => dead.length === 2, 'dead events');
    expect(dead.sort()).toEqual(['child', 'parent']);
  });
});

describe('inspecting and controlling', () => {
  it('cancels a waiting task, and not a finished one', async () => {
    const e = make();
    e.tasks.register('c', () => {});
    const id = await e.tasks.submit('c', null, { delay: 60 });
    expect(await e.tasks.cancel(id)).toBe(true);
    expect((await e.tasks.get(id))?.state).toBe('cancelled');
    await expect(e.tasks.waitFor(id, { timeout: 1 })).rejects.toMatchObject({
      message: expect.stringContaining('cancelled'),
    });
    expect(await e.tasks.cancel(id)).toBe(false);
    expect(await e.tasks.cancel('unknown-id')).toBe(false);
  });

  it('gives up waiting after the timeout without touching the task', async () => {
    const e = make({ shutdownTimeout: '20ms' });
    e.tasks.register('slow', () => sleep(2_000));
    await e.start();
    const id = await e.tasks.submit('slow');
    const started = Date.now();
    await expect(e.tasks.waitFor(id, { timeout: '150ms' })).rejects.toMatchObject({
      code: 'E_TASK_WAIT_TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await e.tasks.get(id))?.state).toBe('active');
    await expect(e.tasks.waitFor('never-submitted', { timeout: 1 })).rejects.toMatchObject({
      code: 'E_TASK_FAILED',
      context: expect.objectContaining({ state: 'unknown' }),
    });
  });

  it('pauses and resumes a queue', async () => {
    const e = make();
    let runs = 0;
    e.tasks.register('p', () => {
      runs += 1;
    });
    await e.start();
    await e.tasks.pause();
    const id = await e.tasks.submit('p');
    await sleep(100);
    expect(runs).toBe(0);
    expect((await e.tasks.stats()).queues.find((q) => q.name === 'default')?.paused).toBe(true);
    await e.tasks.resume();
    await e.tasks.waitFor(id, { timeout: 5 });
    expect(runs).toBe(1);
  });

  it('reports progress as events and on the task', async () => {
    const e = make();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    e.tasks.register('long', async (_p, { progress }) => {
      progress({ done: 1, of: 2 });
      await gate;
      return 'ok';
    });
    const events: unknown[] = [];
    e.tasks.on('progress', (ev) => events.push(ev.progress));
    await e.start();
    const id = await e.tasks.submit('long');
    await eventually(
      async () => (await e.tasks.get(id))?.progress !== undefined,
      'progress stored',
    );
    expect((await e.tasks.get(id))?.progress).toEqual({ done: 1, of: 2 });
    release();
    await e.tasks.waitFor(id, { timeout: 5 });
    expect(events).toEqual([{ done: 1, of: 2 }]);
  });

  it('stores the last progress reported, whatever order the writes would land in', async () => {
    // The first write is slow (a script Redis forgot, sent again by EVAL); so is the one made
    // when the handler returns. Neither may leave an older value, nor be refused by the outcome.
    const inner = memoryTaskBackend();
    const writes: string[] = [];
    const backend = new Proxy(inner, {
      get(target, property, receiver) {
        if (property === 'setProgress') {
          return async (...args: Parameters<TaskBackend['setProgress']>) => {
            writes.push(args[2]);
            if (writes.length === 1 || args[2] === '4') await sleep(60);
            return target.setProgress(...args);
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const e = make({ backend });
    e.tasks.register('steps', async (_p, { progress }) => {
      progress(1);
      progress(2);
      progress(3);
      await sleep(120);
      progress(4);
      return 'ok';
    });
    const events: unknown[] = [];
    e.tasks.on('progress', (ev) => events.push(ev.progress));
    await e.start();
    const id = await e.tasks.submit('steps');
    const done = await e.tasks.waitFor(id, { timeout: 5 });
    expect(done.state).toBe('completed');
    expect(done.progress).toBe(4);
    expect(events).toEqual([1, 2, 3, 4]);
    // One write at a time, the latest value each time: 2 was folded into 3.
    expect(writes).toEqual(['1', '3', '4']);
  });

  it('reports queues, workers, throughput and failures grouped by task and error', async () => {
    const e = make({ heartbeatMs: 100 });
    e.tasks.register('ok', () => {});
    e.tasks.register('bad', (n: number) => {
      throw new Error(`user ${n} not found`);
    });
    await e.start();
    const ids = await e.tasks.submitMany([
      { name: 'ok' },
      { name: 'ok' },
      { name: 'bad', payload: 1, options: { maxRetries: 0 } },
      { name: 'bad', payload: 2, options: { maxRetries: 0 } },
    ]);
    await Promise.allSettled(ids.map((id) => e.tasks.waitFor(id, { timeout: 5 })));
    await sleep(150);
    const stats: TaskStats = await e.tasks.stats();
    expect(stats.backend).toBe('memory');
    const queue = stats.queues.find((q) => q.name === 'default')!;
    expect(queue).toMatchObject({ completed: 2, dead: 2, waiting: 0, active: 0 });
    expect(queue.throughput).toBeGreaterThan(0);
    expect(stats.workers).toHaveLength(1);
    expect(stats.workers[0]).toMatchObject({ queue: 'default', healthy: true, concurrency: 2 });
    expect(stats.totals).toMatchObject({ completed: 2, failed: 2, dead: 2 });
    expect(stats.failures).toEqual([
      expect.objectContaining({
        task: 'bad',
        errorName: 'Error',
        message: 'user # not found',
        count: 2,
      }),
    ]);
    expect(stats.deadLetterFailures[0]).toMatchObject({ task: 'bad', count: 2 });
  });

  it('reports per queue the attempts that failed per second, beside the completed ones', async () => {
    const e = make();
    e.tasks.register('ok', () => {}, { queue: 'mixed' });
    e.tasks.register(
      'bad',
      () => {
        throw new Error('no');
      },
      { queue: 'mixed' },
    );
    e.tasks.register('fine', () => {}, { queue: 'clean' });
    await e.start();
    const ids = await e.tasks.submitMany([
      { name: 'ok' },
      { name: 'bad', options: { maxRetries: 0 } },
      { name: 'bad', options: { maxRetries: 0 } },
      { name: 'fine' },
    ]);
    await Promise.allSettled(ids.map((id) => e.tasks.waitFor(id, { timeout: 5 })));
    const queues = (await e.tasks.stats()).queues;
    const mixed = queues.find((q) => q.name === 'mixed')!;
    const clean = queues.find((q) => q.name === 'clean')!;
    expect(mixed.failedPerSecond).toBeGreaterThan(0);
    // One attempt completed for two that failed, whatever the minute's length so far.
    expect(mixed.failedPerSecond).toBeCloseTo(2 * mixed.throughput, 10);
    expect(clean.failedPerSecond).toBe(0);
    expect(clean.throughput).toBeGreaterThan(0);
  });

  it('reports a worker that stopped heartbeating, or holds tasks without completing, as unhealthy', async () => {
    const backend = memoryTaskBackend();
    const e = make({ backend, heartbeatMs: 100, stalledAfterMs: 200 });
    const now = Date.now();
    const base = { queue: 'default', host: 'h', pid: 1, concurrency: 1, processed: 0, failed: 0 };
    await backend.heartbeat(
      { ...base, id: 'silent', active: 0, startedAt: now - 10_000, lastHeartbeatAt: now - 1_000 },
      60_000,
    );
    await backend.heartbeat(
      { ...base, id: 'stuck', active: 1, startedAt: now - 10_000, lastHeartbeatAt: now },
      60_000,
    );
    await backend.heartbeat(
      {
        ...base,
        id: 'fine',
        active: 1,
        startedAt: now - 10_000,
        lastHeartbeatAt: now,
        lastCompletedAt: now,
      },
      60_000,
    );
    const workers = (await e.tasks.stats()).workers;
    const byId = Object.fromEntries(workers.map((w) => [w.id, w]));
    expect(byId.silent).toMatchObject({
      healthy: false,
      reason: expect.stringContaining('heartbeat'),
    });
    expect(byId.stuck).toMatchObject({
      healthy: false,
      reason: expect.stringContaining('completed none'),
    });
    expect(byId.fine?.healthy).toBe(true);
  });

  it('records per-task durations in the performance registry and queue metrics in Prometheus', async () => {
    const e = make();
    e.tasks.register('measured', () => sleep(5));
    await e.start();
    await e.tasks.waitFor(await e.tasks.submit('measured'), { timeout: 5 });
    await e.tasks.stats();
    const op = e.performance
      .operations()
      .find((o) => o.name === 'task' && o.labels.task === 'measured');
    expect(op?.windows.all.count).toBe(1);
    expect(op?.windows.all.min).toBeGreaterThanOrEqual(4);
    const text = e.performance.toPrometheus();
    expect(text).toContain('enterprise_tasks_queue_depth{queue="default",state="completed"} 1');
    expect(text).toMatch(/enterprise_tasks_oldest_waiting_seconds\{queue="default"\} 0/);
    expect(text).toContain(
      'enterprise_tasks_attempts_total{queue="default",task="measured",outcome="completed"} 1',
    );
    expect(text).toMatch(/operation="task".*task="measured"/);
  });
});

describe('workers', () => {
  it('runs up to workerCount tasks at once', async () => {
    const e = make({ workerCount: 3 });
    let running = 0;
    let peak = 0;
    e.tasks.register('busy', async () => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(40);
      running -= 1;
    });
    await e.start();
    const ids = await e.tasks.submitMany(Array.from({ length: 9 }, () => ({ name: 'busy' })));
    await Promise.all(ids.map((id) => e.tasks.waitFor(id, { timeout: 5 })));
    expect(peak).toBe(3);
  });

  it('scales up under a backlog that waits, within max', async () => {
    const e = make({ workerCount: 1, concurrency: { min: 1, max: 4 } });
    let running = 0;
    let peak = 0;
    e.tasks.register('slowish', async () => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(300);
      running -= 1;
    });
    await e.start();
    const ids = await e.tasks.submitMany(Array.from({ length: 24 }, () => ({ name: 'slowish' })));
    await eventually(() => peak >= 2, 'scaling up', 8_000);
    await Promise.all(ids.map((id) => e.tasks.cancel(id)));
    expect(peak).toBeLessThanOrEqual(4);
  });

  it('starts workers for handlers registered after start()', async () => {
    const e = make();
    await e.start();
    backgroundTask('registered_late', () => 'late but running');
    try {
      const id = await e.tasks.submit('registered_late');
      expect((await e.tasks.waitFor(id, { timeout: 5 })).result).toBe('late but running');
    } finally {
      unregisterTask('registered_late');
    }
  });

  it('does not run tasks in a submit-only process', async () => {
    const backend = memoryTaskBackend();
    const web = make({ backend });
    let runs = 0;
    web.tasks.register('job', () => {
      runs += 1;
    });
    await web.start({ workers: false });
    const id = await web.tasks.submit('job');
    await sleep(100);
    expect(runs).toBe(0);
    const worker = make({ backend });
    worker.tasks.register('job', () => {
      runs += 1;
    });
    await worker.start();
    await worker.tasks.waitFor(id, { timeout: 5 });
    expect(runs).toBe(1);
  });

  it('gives back tasks of a worker whose lease expired, to run again elsewhere', async () => {
    const backend = memoryTaskBackend();
    // A "dead" worker: claims, starts the handler (recorded) and never reports.
    const id = 'orphan';
    await make({ backend }).tasks.submit('orphaned', null, { id });
    const [claimed] = await backend.claim('default', 'crashed-worker', 1, 100);
    expect(claimed?.task.id).toBe(id);
    await backend.finish('default', [], [{ id, token: claimed!.token }]);
    // And one that claimed (prefetched) and died before starting: that costs no attempt.
    const unstarted = 'prefetched';
    await make({ backend }).tasks.submit('orphaned', null, { id: unstarted });
    expect((await backend.claim('default', 'crashed-worker', 1, 100))[0]?.task.id).toBe(unstarted);
    const e = make({ backend, leaseMs: 200 });
    e.tasks.register('orphaned', (_p, { attempt }) => attempt);
    await e.start();
    expect((await e.tasks.waitFor(id, { timeout: 5 })).result).toBe(2);
    expect((await e.tasks.waitFor(unstarted, { timeout: 5 })).result).toBe(1);
  });

  it('renews the lease of a task that runs longer than the lease, so it runs once', async () => {
    const e = make({ leaseMs: 150 });
    let runs = 0;
    e.tasks.register('long_runner', async () => {
      runs += 1;
      await sleep(600);
      return 'finished';
    });
    await e.start();
    const id = await e.tasks.submit('long_runner');
    expect((await e.tasks.waitFor(id, { timeout: 5 })).result).toBe('finished');
    expect(runs).toBe(1);
    expect((await e.tasks.get(id))?.attempts).toBe(1);
  });

  it('keeps working after a handler returns a thenable that throws', async () => {
    const e = make({ workerCount: 1 });
    e.tasks.register('bad_thenable', () => ({
      // biome-ignore lint/suspicious/noThenProperty: a broken thenable is the point of the test.
      then() {
        throw new Error('broken thenable');
      },
    }));
    e.tasks.register('after', () => 'still running');
    await e.start();
    const bad = await e.tasks.submit('bad_thenable', null, { maxRetries: 0 });
    const next = await e.tasks.submit('after');
    await expect(e.tasks.waitFor(bad, { timeout: 5 })).rejects.toMatchObject({
      message: expect.stringContaining('broken thenable'),
    });
    expect((await e.tasks.waitFor(next, { timeout: 5 })).result).toBe('still running');
  });

  it('on shutdown, waits for running tasks, then gives the rest back', async () => {
    const backend = memoryTaskBackend();
    const e = make({ backend, workerCount: 2, shutdownTimeout: '300ms' });
    const finished: string[] = [];
    e.tasks.register('short', async () => {
      await sleep(50);
      finished.push('short');
    });
    e.tasks.register('endless', async (_p, { signal }) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      finished.push('endless-aborted');
    });
    await e.start();
    const short = await e.tasks.submit('short');
    const endless = await e.tasks.submit('endless');
    await eventually(
      async () => (await backend.get('default', endless))?.state === 'active',
      'start',
    );
    const started = Date.now();
    await e.shutdown();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3_000);
    expect(finished).toContain('short');
    expect(finished).toContain('endless-aborted');
    expect((await backend.get('default', short))?.state).toBe('completed');
    expect(await backend.get('default', endless)).toMatchObject({ state: 'waiting', attempts: 0 });
    expect(await backend.workers('default')).toEqual([]);
    // The backend was given, so it is not closed: another instance can pick the task up.
    const next = make({ backend });
    next.tasks.register('endless2', () => {});
    expect((await next.tasks.get(endless))?.state).toBe('waiting');
  });

  it('shuts down at once when nothing runs, and refuses use afterwards', async () => {
    const e = make();
    e.tasks.register('x', () => {});
    await e.start();
    const started = Date.now();
    await e.shutdown();
    expect(Date.now() - started).toBeLessThan(1_000);
    const fresh = make();
    await fresh.shutdown();
    expect(() => fresh.tasks).toThrow(/shut down/);
  });
});
