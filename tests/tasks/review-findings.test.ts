import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createDefaultLogger } from '../../src/core/logger.js';
import type { Enterprise, TaskOptions } from '../../src/index.js';
import type { TaskContext } from '../../src/tasks/api-types.js';
import { redisTaskBackend } from '../../src/tasks/backends/redis.js';
import { memoryTaskBackend } from '../../src/tasks/index.js';
import { type PoolHooks, WorkerPool } from '../../src/tasks/worker-pool.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import { eventually, make, shutDownAfterEach, withClaim } from './pool-helpers.js';
import { adminClient, deleteKeys, testPrefix } from './redis/helpers.js';

/**
 * Worker pool behaviours around claim pipelining and the handler context that a user relies on:
 * a backend whose claim throws before returning a promise, pause and resume while claims are in
 * flight, claims that fail while another one is in flight, and the handler context.
 */

shutDownAfterEach();

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

describe.runIf(requires(redis))('shutdown with claims in flight, on Redis', () => {
  it('gives back every prefetched task uncounted: none left active, each run once, all on attempt 1', async () => {
    const prefix = testPrefix('review');
    const admin = adminClient();
    try {
      const attempts = new Map<number, number[]>();
      const register = (e: Enterprise) =>
        e.tasks.register('job', async (n: number, { attempt }: TaskContext) => {
          attempts.set(n, [...(attempts.get(n) ?? []), attempt]);
          await sleep(10);
        });
      const first = redisTaskBackend({ url: REDIS_URL, prefix });
      // Each reply arrives late: shutdown begins while claims that already took tasks are pending.
      const slow = withClaim(first, async (...args) => {
        const claimed = await first.claim(...args);
        await sleep(25);
        return claimed;
      });
      const a = make(slow, { workerCount: 1, concurrency: { min: 4, max: 4 }, prefetch: 8 });
      register(a);
      await a.tasks.submitMany(Array.from({ length: 60 }, (_, n) => ({ name: 'job', payload: n })));
      await a.start();
      await eventually(() => attempts.size >= 4, 'the first tasks to start');
      await a.shutdown();
      await first.close();
      const counts = await (async () => {
        const probe = redisTaskBackend({ url: REDIS_URL, prefix });
        try {
          return await probe.counts('default');
        } finally {
          await probe.close();
        }
      })();
      expect(counts.active).toBe(0);
      expect(counts.waiting + counts.completed).toBe(60);

      const second = redisTaskBackend({ url: REDIS_URL, prefix });
      const b = make(second, { workerCount: 4 });
      register(b);
      await b.start();
      await eventually(() => attempts.size === 60, 'every task to run', 8_000);
      await b.shutdown();
      await second.close();
      for (const [, seen] of attempts) expect(seen).toEqual([1]);
    } finally {
      await deleteKeys(admin, prefix);
      await admin.quit();
    }
  });
});

describe('auto-scaling with claims in flight', () => {
  it('scales down while two claims are in flight without losing, repeating or stranding a task', async () => {
    const inner = memoryTaskBackend();
    let inFlight = 0;
    let most = 0;
    const backend = withClaim(inner, async (...args) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      try {
        await sleep(20);
        return await inner.claim(...args);
      } finally {
        inFlight -= 1;
      }
    });
    const runs = new Map<number, number>();
    const completed: string[] = [];
    const hooks: PoolHooks = {
      resolve: () => ({
        fn: async (n: number) => {
          runs.set(n, (runs.get(n) ?? 0) + 1);
          await sleep(n % 3 === 0 ? 15 : 2);
        },
        thisArg: undefined,
      }),
      started: () => {},
      progress: () => {},
      completed: (task) => completed.push(task.id),
      failed: () => {},
      retried: () => {},
      dead: () => {},
      killed: () => {},
    };
    const pool = new WorkerPool(
      // Nothing is ever reported waiting: every look at the backlog is an idle one.
      new Proxy(backend, {
        get(target, property, receiver) {
          if (property === 'counts')
            return async (queue: string) => ({ ...(await target.counts(queue)), waiting: 0 });
          return Reflect.get(target, property, receiver);
        },
      }),
      {
        queue: 'default',
        minConcurrency: 1,
        maxConcurrency: 6,
        initialConcurrency: 6,
        leaseMs: 30_000,
        heartbeatMs: 1_000,
        prefetch: 6,
        idleWaitMs: 200,
        scaleIntervalMs: 5,
        targetWaitMs: 1_000_000,
      },
      hooks,
      createDefaultLogger('silent'),
    );
    const now = Date.now();
    await inner.add(
      Array.from({ length: 120 }, (_, n) => ({
        id: `t${n}`,
        name: 'n',
        queue: 'default',
        payload: String(n),
        priority: 0,
        runAt: now,
        maxRetries: 0,
        backoff: { type: 'fixed', delayMs: 10, factor: 1, maxDelayMs: 10, jitter: 0 },
        timeoutMs: 0,
        dependsOn: [],
        failOnDependencyFailure: true,
        createdAt: now,
      })),
    );
    pool.start();
    try {
      await eventually(() => completed.length === 120, 'every task to complete', 8_000);
    } finally {
      await pool.stop(Date.now() + 1_000);
    }
    expect(pool.concurrency).toBeLessThan(6);
    expect(most).toBe(2);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    const counts = await inner.counts('default');
    expect(counts.active).toBe(0);
    expect(counts.completed).toBe(120);
  });
});

describe('graceful shutdown longer than a lease', () => {
  it('keeps renewing the leases of the tasks it waits for, so no other worker runs them meanwhile', async () => {
    const backend = memoryTaskBackend();
    const starts: string[] = [];
    const register = (e: Enterprise, who: string) =>
      e.tasks.register('long', async () => {
        starts.push(who);
        await sleep(900);
      });
    const options: TaskOptions = { workerCount: 1, leaseMs: 200, shutdownTimeout: '3s' };
    const a = make(backend, options);
    register(a, 'a');
    const id = await a.tasks.submit('long', null, { maxRetries: 3 });
    await a.start();
    await eventually(() => starts.length === 1, 'the task to start');
    const stopping = a.shutdown();
    const b = make(backend, options);
    register(b, 'b');
    await b.start();
    await stopping;
    await eventually(async () => (await b.tasks.get(id))?.state === 'completed', 'completion');
    expect(starts).toEqual(['a']);
  });
});

describe('graceful shutdown with prefetched tasks', () => {
  it('gives prefetched tasks back at once rather than after the running ones end', async () => {
    const backend = memoryTaskBackend();
    const done: { n: number; at: number }[] = [];
    const register = (e: Enterprise) =>
      e.tasks.register('job', async (n: number) => {
        await sleep(n === 0 ? 800 : 1);
        done.push({ n, at: Date.now() });
      });
    const a = make(backend, { workerCount: 1, prefetch: 4, shutdownTimeout: '3s' });
    register(a);
    await a.tasks.submitMany([0, 1, 2, 3].map((n) => ({ name: 'job', payload: n })));
    await a.start();
    // The long task runs; the others wait in its pool's prefetch buffer.
    await sleep(50);
    expect((await a.tasks.stats()).queues[0]?.active).toBe(4);
    const stopping = a.shutdown();
    const b = make(backend, { workerCount: 2 });
    register(b);
    await b.start();
    await stopping;
    await eventually(() => done.length === 4, 'every task to run');
    // The prefetched ones ran on the other instance while the long one was still running.
    expect(done.map((d) => d.n)).toEqual([
      expect.any(Number),
      expect.any(Number),
      expect.any(Number),
      0,
    ]);
  });
});

describe('shutdown with a claim that does not answer', () => {
  it('stops waiting at the shutdown deadline and gives the tasks of the claim back when it answers', async () => {
    const inner = memoryTaskBackend();
    let release: (() => void) | undefined;
    let calls = 0;
    const backend = withClaim(inner, async (...args) => {
      calls += 1;
      // The first claim takes the tasks but answers only when the test lets it (a hung store).
      if (calls === 1) {
        const claimed = await inner.claim(...args);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return claimed;
      }
      return inner.claim(...args);
    });
    const a = make(backend, { workerCount: 1, shutdownTimeout: '300ms' });
    a.tasks.register('job', () => undefined);
    const ids = await a.tasks.submitMany([1, 2, 3].map((n) => ({ name: 'job', payload: n })));
    await a.start();
    await eventually(() => release !== undefined, 'the hung claim');
    const started = Date.now();
    await a.shutdown();
    // Bounded by the shutdown deadline, not by the claim.
    expect(Date.now() - started).toBeLessThan(2_000);
    release?.();
    // The late answer gives its tasks back: waiting, the attempt not counted.
    await eventually(async () => {
      const states = await Promise.all(ids.map((id) => inner.get(a.tasks.defaultQueue, id)));
      return states.every((task) => task?.state === 'waiting' && task.attempts === 0);
    }, 'the tasks to be given back');
    const b = make(inner, { workerCount: 1 });
    const done: number[] = [];
    b.tasks.register('job', (n: number) => {
      done.push(n);
    });
    await b.start();
    await eventually(() => done.length === 3, 'another instance to run them');
    expect(done.sort()).toEqual([1, 2, 3]);
  });
});

describe.runIf(requires(redis))('a claim of tasks submitted together, on Redis', () => {
  it('freezes the backoff and dependency list they share, so one task cannot change another', async () => {
    const prefix = testPrefix('review-meta');
    const admin = adminClient();
    const backend = redisTaskBackend({ url: REDIS_URL, prefix });
    try {
      const e = make(backend);
      e.tasks.register('job', () => undefined);
      const backoff = { type: 'fixed' as const, delay: 50 };
      await e.tasks.submitMany(
        [1, 2, 3].map((n) => ({ name: 'job', payload: n, options: { backoff } })),
      );
      const claimed = await backend.claim(e.tasks.defaultQueue, 'probe', 10, 30_000);
      expect(claimed).toHaveLength(3);
      const [first, second] = claimed;
      // `delay` is in seconds.
      const stored = { type: 'fixed', delayMs: 50_000 };
      expect(first?.task.backoff).toMatchObject(stored);
      expect(Object.isFrozen(first?.task.backoff)).toBe(true);
      expect(() => {
        if (first !== undefined) first.task.backoff.delayMs = 1;
      }).toThrow(TypeError);
      expect(second?.task.backoff).toMatchObject(stored);
    } finally {
      await deleteKeys(admin, prefix);
      await admin.quit();
    }
  });
});
