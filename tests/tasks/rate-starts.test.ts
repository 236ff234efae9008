import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { memoryTaskBackend, type TaskBackend } from '../../src/tasks/index.js';
import type { ClaimedTask } from '../../src/tasks/types.js';
import { eventually, make, shutDownAfterEach, withClaim } from './pool-helpers.js';

/**
 * A rate limit counts claims per window; handlers must start in the window that counted them. A
 * task whose claim answers (or which waits for a slot) past its window's end is given back
 * without spending an attempt, and claimed again in a window with room.
 */

shutDownAfterEach();

const PER_MS = 500;
const LIMIT = 5;

describe('rate-limited starts', () => {
  it('gives back the tasks of a claim that answers after its window ended', async () => {
    const inner = memoryTaskBackend();
    let first = true;
    const backend = withClaim(inner, async (...args): Promise<ClaimedTask[]> => {
      const claimed = await inner.claim(...args);
      if (first && claimed.length > 0) {
        first = false;
        // Answers in the next window, as a slow network or a busy process would.
        const now = Date.now();
        await sleep((Math.floor(now / PER_MS) + 1) * PER_MS - now + 30);
      }
      return claimed;
    });
    const e = make(backend, { workerCount: 10, prefetch: 20 });
    const starts: { id: string; at: number; attempt: number }[] = [];
    e.tasks.register('call', async (_payload: unknown, ctx) => {
      starts.push({ id: ctx.id, at: Date.now(), attempt: ctx.attempt });
    });
    await e.tasks.groups.configureQueue('default', {
      rateLimit: { limit: LIMIT, per: PER_MS / 1_000 },
    });
    const ids = await e.tasks.submitMany(
      Array.from({ length: 3 * LIMIT }, (_, i) => ({ name: 'call', payload: i })),
    );
    await e.start();
    await eventually(() => starts.length === ids.length, 'every task ran', 10_000);
    const windows = new Map<number, number>();
    for (const s of starts) {
      const w = Math.floor(s.at / PER_MS);
      windows.set(w, (windows.get(w) ?? 0) + 1);
    }
    for (const n of windows.values()) expect(n).toBeLessThanOrEqual(LIMIT);
    // Given back, not failed: every task ran once, on its first attempt.
    expect(new Set(starts.map((s) => s.id)).size).toBe(ids.length);
    for (const s of starts) expect(s.attempt).toBe(1);
  });
});

describe('a limit set while pools run', () => {
  /** One slot, eight tasks claimed ahead, each task 100 ms; limits read at heartbeats every 5 s. */
  async function prefetchingPool(backend: TaskBackend) {
    const worker = make(backend, { workerCount: 1, prefetch: 8, heartbeatMs: 5_000 });
    worker.tasks.register('slow', async () => {
      await sleep(100);
    });
    await worker.tasks.submitMany(Array.from({ length: 60 }, () => ({ name: 'slow' })));
    await worker.start();
    await eventually(
      async () => (await backend.counts('default')).active === 9,
      'one task running and eight claimed ahead',
    );
    return worker;
  }

  /**
   * Claims for its free slot only from then on: what it held drains, and it claims no more ahead.
   * Held: the task running, and at most one that ended and whose outcome is being recorded.
   */
  async function claimsForFreeSlotsOnly(backend: TaskBackend): Promise<void> {
    // Eight held tasks of 100 ms drain in under a second; a heartbeat would come only after 5 s.
    await eventually(
      async () => (await backend.counts('default')).active <= 2,
      'claims for free slots only',
      2_500,
    );
    for (let i = 0; i < 5; i++) {
      await sleep(100);
      expect((await backend.counts('default')).active).toBeLessThanOrEqual(2);
    }
  }

  it('is followed at once by the pools of the process that set it', async () => {
    const backend = memoryTaskBackend();
    const worker = await prefetchingPool(backend);
    await worker.tasks.groups.configureQueue('default', { rateLimit: { limit: 1_000, per: '1s' } });
    await claimsForFreeSlotsOnly(backend);
  });

  it('is followed by another process as soon as it hears the limits event', async () => {
    const backend = memoryTaskBackend();
    await prefetchingPool(backend);
    const admin = make(backend);
    await admin.tasks.groups.configureQueue('default', { rateLimit: { limit: 1_000, per: '1s' } });
    await claimsForFreeSlotsOnly(backend);
  });
});
