import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { memoryTaskBackend } from '../../src/tasks/index.js';
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
