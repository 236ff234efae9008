import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Enterprise } from '../../src/index.js';
import { memoryTaskBackend, type TaskBackend } from '../../src/tasks/index.js';
import { redis, requires } from '../support/requirements.js';
import { deafTo, eventually, make, shutDownAfterEach, withClaim } from './pool-helpers.js';
import { redisBackends } from './redis/helpers.js';

/**
 * `tasks.pause()` stops what was prefetched too: once it resolves, the calling process starts no
 * task of the queue and its claimed-ahead tasks are back in the queue, their attempt not spent;
 * other processes stop when the backend's `paused` event reaches them.
 */

shutDownAfterEach();

const QUEUE = 'default';
const TASKS = 12;

/** One slot and eight tasks claimed ahead, each task running 150 ms. */
function slowPool(backend: TaskBackend, started: string[]): Enterprise {
  const e = make(backend, { workerCount: 1, prefetch: 8 });
  e.tasks.register('slow', async () => {
    await sleep(150);
  });
  e.tasks.on('started', (event) => started.push(event.id));
  return e;
}

/** The pool is running one task with eight more claimed ahead. */
async function untilPrefetched(backend: TaskBackend): Promise<void> {
  await eventually(
    async () => (await backend.counts(QUEUE)).active === 9,
    'one task running and eight prefetched',
  );
}

async function pausesInThisProcess(backend: TaskBackend): Promise<void> {
  const started: string[] = [];
  const e = slowPool(backend, started);
  const ids = await e.tasks.submitMany(
    Array.from({ length: TASKS }, (_, i) => ({ name: 'slow', payload: i })),
  );
  await e.start();
  await untilPrefetched(backend);

  await e.tasks.pause();
  const startedAtPause = started.length;
  const counts = await backend.counts(QUEUE);
  expect(counts.paused).toBe(true);
  // Only the running task is still held; the prefetched ones are ready again.
  expect(counts.waiting).toBe(TASKS - startedAtPause);
  expect(counts.active).toBeLessThanOrEqual(1);
  for (const id of ids.filter((id) => !started.includes(id))) {
    expect((await e.tasks.get(id))?.attempts).toBe(0);
  }
  // Longer than the running task: its slot frees, and nothing takes it.
  await sleep(500);
  expect(started.length).toBe(startedAtPause);

  await e.tasks.resume();
  await eventually(
    async () => (await backend.counts(QUEUE)).completed === TASKS,
    'every task after resume',
    10_000,
  );
  for (const id of ids) expect((await e.tasks.get(id))?.attempts).toBe(1);
}

async function pausesInAnotherInstance(
  one: TaskBackend,
  other: TaskBackend,
  subscribed: () => Promise<void> = async () => {},
): Promise<void> {
  const started: string[] = [];
  const worker = slowPool(one, started);
  const admin = make(other, { workerCount: 1 });
  await worker.tasks.submitMany(
    Array.from({ length: TASKS }, (_, i) => ({ name: 'slow', payload: i })),
  );
  await worker.start();
  await untilPrefetched(one);
  // The worker hears events once its subscription is up (until then, the 5 s poll of the flag).
  await subscribed();

  await admin.tasks.pause();
  // Within one event's delivery the other instance stops and gives its prefetched tasks back.
  await sleep(500);
  const stoppedAt = started.length;
  expect(stoppedAt).toBeLessThan(TASKS);
  await sleep(600);
  expect(started.length).toBe(stoppedAt);
  const counts = await admin.tasks.stats();
  const queue = counts.queues.find((q) => q.name === QUEUE)!;
  expect(queue.waiting).toBe(TASKS - stoppedAt);
  expect(queue.active).toBe(0);

  await admin.tasks.resume();
  await eventually(() => started.length === TASKS, 'every task after resume', 10_000);
}

describe('pause with the memory backend', () => {
  it('starts nothing once pause() resolves; prefetched tasks go back uncounted and run after resume', async () => {
    await pausesInThisProcess(memoryTaskBackend());
  });

  it('stops the pools of another instance on the same store', async () => {
    const backend = memoryTaskBackend();
    await pausesInAnotherInstance(backend, backend);
  });

  it('gives back the tasks of a claim that answers after the pause', async () => {
    const inner = memoryTaskBackend();
    let claims = 0;
    let release: () => void = () => {};
    const answered = new Promise<void>((resolve) => {
      release = resolve;
    });
    const backend = withClaim(inner, async (...args) => {
      claims += 1;
      // The first claim is taken by the store now and answers only once the pause has begun.
      const claimed = await inner.claim(...args);
      if (claims === 1) await answered;
      return claimed;
    });
    const started: string[] = [];
    const e = slowPool(backend, started);
    await e.tasks.submitMany(
      Array.from({ length: TASKS }, (_, i) => ({ name: 'slow', payload: i })),
    );
    await e.start();
    await eventually(async () => (await inner.counts(QUEUE)).active === 9, 'the first claim');
    const pausing = e.tasks.pause();
    await sleep(20);
    release();
    await pausing;
    expect(started).toEqual([]);
    expect(await inner.counts(QUEUE)).toMatchObject({ waiting: TASKS, active: 0, paused: true });
    await e.tasks.resume();
    await eventually(() => started.length === TASKS, 'every task after resume', 10_000);
  });

  it('resumes a pool whose resumed event was lost, from the queue flag it reads', async () => {
    const backend = memoryTaskBackend();
    // The worker instance hears `paused` but never `resumed`.
    const deaf = deafTo(backend, ['resumed']);
    const started: string[] = [];
    const worker = slowPool(deaf, started);
    const admin = make(backend, { workerCount: 1 });
    await worker.tasks.submitMany(
      Array.from({ length: TASKS }, (_, i) => ({ name: 'slow', payload: i })),
    );
    await worker.start();
    await untilPrefetched(backend);
    await admin.tasks.pause();
    await sleep(300);
    const stoppedAt = started.length;
    await admin.tasks.resume();
    await sleep(300);
    expect(started.length).toBe(stoppedAt);
    // The queue depths are read every 5 s, with the paused flag.
    await eventually(() => started.length === TASKS, 'every task after resume', 12_000);
  }, 20_000);
});

describe.runIf(requires(redis))('pause with the redis backend', () => {
  const redisStore = redisBackends('pause');

  it('starts nothing once pause() resolves; prefetched tasks go back uncounted and run after resume', async () => {
    await pausesInThisProcess(redisStore.backend(redisStore.prefix()));
  });

  it('stops the pools of an instance with its own connections (another subscriber)', async () => {
    const prefix = redisStore.prefix();
    await pausesInAnotherInstance(redisStore.backend(prefix), redisStore.backend(prefix), () =>
      redisStore.subscribed(prefix),
    );
  });
});
