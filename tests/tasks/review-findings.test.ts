import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise, type TaskOptions } from '../../src/index.js';
import { memoryTaskBackend, type TaskBackend } from '../../src/tasks/index.js';
import type { TaskContext } from '../../src/tasks/task-types.js';
import type { ClaimedTask } from '../../src/tasks/types.js';

/**
 * Worker pool behaviours around claim pipelining and the handler context that a user relies on:
 * a backend whose claim throws before returning a promise, pause and resume while claims are in
 * flight, claims that fail while another one is in flight, and the handler context.
 */

const instances: Enterprise[] = [];

afterEach(async () => {
  await Promise.all(instances.splice(0).map((e) => e.shutdown()));
});

function make(backend: TaskBackend, tasks: TaskOptions = {}): Enterprise {
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
    tasks: { backend, ...tasks },
  });
  instances.push(enterprise);
  return enterprise;
}

/** The memory backend with `claim` replaced (every other method delegated). */
function withClaim(
  inner: TaskBackend,
  claim: (...args: Parameters<TaskBackend['claim']>) => Promise<ClaimedTask[]>,
): TaskBackend {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'claim') return claim;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function eventually<T>(check: () => Promise<T> | T, what: string, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('claims that fail', () => {
  it('keeps claiming after a backend whose claim throws instead of returning a rejected promise', async () => {
    const inner = memoryTaskBackend();
    let calls = 0;
    const backend = withClaim(inner, (...args) => {
      calls += 1;
      // A hand-written backend that validates before going async (not an async function).
      if (calls === 1) throw new Error('store not ready');
      return inner.claim(...args);
    });
    const e = make(backend, { workerCount: 1, concurrency: { min: 1, max: 1 } });
    const done: number[] = [];
    e.tasks.register('one', (n: number) => {
      done.push(n);
    });
    await e.tasks.submit('one', 1);
    await e.start();
    await eventually(() => done.length === 1, 'the task to run after the failed claim');
    expect(calls).toBeGreaterThan(1);
  });

  it('runs every task when one claim fails while another is in flight', async () => {
    const inner = memoryTaskBackend();
    let calls = 0;
    const backend = withClaim(inner, async (...args) => {
      calls += 1;
      const call = calls;
      await sleep(call % 2 === 0 ? 5 : 20);
      if (call === 4) throw new Error('connection reset');
      return inner.claim(...args);
    });
    const e = make(backend, { workerCount: 1, concurrency: { min: 4, max: 4 }, prefetch: 4 });
    const runs = new Map<number, number>();
    e.tasks.register('step', async (n: number) => {
      runs.set(n, (runs.get(n) ?? 0) + 1);
      await sleep(3);
    });
    await e.tasks.submitMany(Array.from({ length: 60 }, (_, n) => ({ name: 'step', payload: n })));
    await e.start();
    await eventually(() => runs.size === 60, 'every task to run', 8_000);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
  });
});

describe('pause and resume with claims in flight', () => {
  it('takes tasks again after resume, with none run while paused', async () => {
    const inner = memoryTaskBackend();
    const backend = withClaim(inner, async (...args) => {
      await sleep(15);
      return inner.claim(...args);
    });
    const e = make(backend, { workerCount: 1, concurrency: { min: 2, max: 2 }, prefetch: 2 });
    const done: number[] = [];
    e.tasks.register('p', async (n: number) => {
      done.push(n);
      await sleep(2);
    });
    await e.start();
    await e.tasks.submitMany(Array.from({ length: 10 }, (_, n) => ({ name: 'p', payload: n })));
    await e.tasks.pause();
    // Claims sent before the pause may still hand out tasks; nothing after.
    await sleep(100);
    const before = done.length;
    await e.tasks.submitMany(
      Array.from({ length: 10 }, (_, n) => ({ name: 'p', payload: 100 + n })),
    );
    await sleep(150);
    expect(done.length).toBe(before);
    await e.tasks.resume();
    await eventually(() => done.length === 20, 'every task after resume', 5_000);
  });
});

describe('the handler context', () => {
  it('passes signal and progress on when a copy names them (they are accessors, not own fields)', async () => {
    const e = make(memoryTaskBackend(), { workerCount: 1 });
    const seen: { signal: unknown; progress: unknown }[] = [];
    const progressed: unknown[] = [];
    e.tasks.on('progress', (event) => progressed.push(event.progress));
    e.tasks.register('copy', (_: null, context: TaskContext) => {
      const copy = { ...context, signal: context.signal, progress: context.progress, step: 'load' };
      seen.push({ signal: copy.signal, progress: copy.progress });
      copy.progress(50);
    });
    await e.tasks.submit('copy', null);
    await e.start();
    await eventually(() => seen.length === 1, 'the handler to run');
    await eventually(() => progressed.length === 1, 'the progress event');
    expect(seen[0]!.signal).toBeInstanceOf(AbortSignal);
    expect(typeof seen[0]!.progress).toBe('function');
    expect(progressed).toEqual([50]);
  });

  it('reports progress through a destructured progress, and aborts signal on timeout', async () => {
    const e = make(memoryTaskBackend(), { workerCount: 1 });
    const progressed: unknown[] = [];
    let reason: unknown;
    e.tasks.on('progress', (event) => progressed.push(event.progress));
    e.tasks.register(
      'slow',
      async (_: null, { progress, signal, attempt }: TaskContext) => {
        progress({ attempt });
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            reason = signal.reason;
            resolve();
          });
        });
      },
      { timeout: '50ms', maxRetries: 0 },
    );
    const id = await e.tasks.submit('slow', null);
    await e.start();
    await eventually(async () => (await e.tasks.get(id))?.state === 'dead', 'the task to die');
    expect(progressed).toEqual([{ attempt: 1 }]);
    expect((reason as Error).name).toBe('TaskTimeoutError');
  });
});
