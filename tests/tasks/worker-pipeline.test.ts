import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { memoryTaskBackend } from '../../src/tasks/index.js';
import type { ClaimedTask } from '../../src/tasks/types.js';
import { eventually, make, shutDownAfterEach, withClaim } from './pool-helpers.js';

/**
 * How a worker pool pipelines its claims: the next batch is asked for while the current one runs
 * (at most two claims in flight), and shutdown gives back whatever was claimed and not started,
 * including the tasks of a claim whose reply arrives after shutdown began.
 */

shutDownAfterEach();

describe('claim pipelining', () => {
  it('asks for the next batch while the current one runs: two claims in flight at most, every task once', async () => {
    const inner = memoryTaskBackend();
    let inFlight = 0;
    let most = 0;
    let claims = 0;
    const backend = withClaim(inner, async (...args) => {
      inFlight += 1;
      claims += 1;
      most = Math.max(most, inFlight);
      try {
        // A slow store: a claim takes longer than a task, so a pool that waited for one claim
        // before sending the next would leave its slots idle.
        await sleep(15);
        return await inner.claim(...args);
      } finally {
        inFlight -= 1;
      }
    });
    const e = make(backend, { workerCount: 4, concurrency: { min: 4, max: 4 }, prefetch: 4 });
    const runs = new Map<number, number>();
    e.tasks.register('step', async (n: number) => {
      runs.set(n, (runs.get(n) ?? 0) + 1);
      await sleep(2);
    });
    await e.tasks.submitMany(Array.from({ length: 80 }, (_, n) => ({ name: 'step', payload: n })));
    await e.start();
    await eventually(async () => (await inner.counts('default')).completed === 80, 'every task');
    expect(most).toBe(2);
    expect(claims).toBeGreaterThan(2);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    expect(runs.size).toBe(80);
  });

  it('gives back the tasks of a claim that returns after shutdown began, their attempt not counted', async () => {
    const inner = memoryTaskBackend();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let claimed: ClaimedTask[] = [];
    let claimedOnce = false;
    const backend = withClaim(inner, async (...args) => {
      // The first claim takes its tasks at once, and its reply is held until the test lets it go.
      const tasks = await inner.claim(...args);
      if (!claimedOnce) {
        claimedOnce = true;
        claimed = tasks;
        await gate;
      }
      return tasks;
    });
    const e = make(backend, { workerCount: 2, concurrency: { min: 2, max: 2 }, prefetch: 3 });
    const ran: string[] = [];
    e.tasks.register('held', (_p, { id }) => {
      ran.push(id);
    });
    const ids = await e.tasks.submitMany(
      Array.from({ length: 8 }, () => ({ name: 'held', payload: null })),
    );
    await e.start();
    await eventually(() => claimed.length > 0, 'the first claim');
    expect((await inner.counts('default')).active).toBe(5);
    const stopped = e.shutdown();
    await sleep(20);
    release();
    await stopped;
    expect(ran).toEqual([]);
    for (const id of ids) {
      const task = await inner.get('default', id);
      expect(task).toMatchObject({ state: 'waiting', attempts: 0 });
    }
    await inner.close();
  });

  it('gives back prefetched tasks at shutdown with the one it aborted, their attempt not counted', async () => {
    const inner = memoryTaskBackend();
    const e = make(inner, {
      workerCount: 1,
      concurrency: { min: 1, max: 1 },
      prefetch: 3,
      shutdownTimeout: '50ms',
    });
    const started: string[] = [];
    e.tasks.register('blocks', (_p, { id, signal }) => {
      started.push(id);
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    });
    const ids = await e.tasks.submitMany(
      Array.from({ length: 6 }, () => ({ name: 'blocks', payload: null })),
    );
    await e.start();
    await eventually(
      async () => (await inner.counts('default')).active === 4,
      'one running, three prefetched',
    );
    await e.shutdown();
    expect(started).toEqual([ids[0]]);
    for (const id of ids) {
      expect(await inner.get('default', id)).toMatchObject({ state: 'waiting', attempts: 0 });
    }
    await inner.close();
  });
});
