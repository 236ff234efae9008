import * as vitest from 'vitest';
import { describe, expect, it } from 'vitest';
import { MemoryTaskBackend, memoryTaskBackend } from '../../src/tasks/backends/memory.js';
import { DEFAULT_RETENTION } from '../../src/tasks/retention.js';
import type { NewTask } from '../../src/tasks/types.js';
import { describeTaskBackend } from '../../src/testing/index.js';

let n = 0;
describeTaskBackend('memory', vitest, async (options = {}) => {
  const backend = memoryTaskBackend({ retention: options.retention });
  n += 1;
  return { backend, queue: `q${n}`, cleanup: () => backend.close() };
});

const task = (id: string, priority = 50): NewTask => ({
  id,
  name: 'job',
  queue: 'q',
  payload: '1',
  priority,
  runAt: 0,
  maxRetries: 0,
  backoff: { type: 'fixed', delayMs: 1, factor: 1, maxDelayMs: 1, jitter: 0 },
  timeoutMs: 0,
  dependsOn: [],
  failOnDependencyFailure: true,
  createdAt: 0,
});

describe('memory task backend', () => {
  it('keeps bounded retention by default', () => {
    expect(new MemoryTaskBackend().retention).toEqual(DEFAULT_RETENTION);
    expect(() => memoryTaskBackend({ retention: { completed: { count: -1 } } })).toThrow(
      /retention/,
    );
  });

  it('claims from a large queue without sorting it each time', async () => {
    const backend = memoryTaskBackend();
    const many = Array.from({ length: 50_000 }, (_, i) => task(`t${i}`, i % 101));
    await backend.add(many);
    const started = performance.now();
    let claimed = 0;
    for (;;) {
      const batch = await backend.claim('q', 'w', 500, 60_000);
      if (batch.length === 0) break;
      claimed += batch.length;
    }
    const elapsed = performance.now() - started;
    expect(claimed).toBe(50_000);
    // A sort per claim (100 claims of 50k) would take seconds; a heap takes tens of milliseconds.
    expect(elapsed).toBeLessThan(2_000);
  });

  it('keeps memory proportional to live tasks when many are cancelled', async () => {
    const backend = memoryTaskBackend();
    const ids = Array.from({ length: 5_000 }, (_, i) => `c${i}`);
    await backend.add(ids.map((id) => task(id)));
    for (const id of ids.slice(0, 4_990)) await backend.cancel('q', id);
    const claimed = await backend.claim('q', 'w', 100, 60_000);
    expect(claimed.map((c) => c.task.id)).toEqual(ids.slice(4_990));
    expect((await backend.counts('q')).waiting).toBe(0);
  });

  it('refuses work once closed, so a worker backs off instead of spinning', async () => {
    const backend = memoryTaskBackend();
    await backend.add([task('before')]);
    await backend.close();
    await expect(backend.claim('q', 'w', 1, 1_000)).rejects.toMatchObject({ code: 'E_LIFECYCLE' });
    await expect(backend.add([task('after')])).rejects.toMatchObject({ code: 'E_LIFECYCLE' });
    await expect(
      backend.waitForWork('q', 1_000, new AbortController().signal),
    ).rejects.toMatchObject({ code: 'E_LIFECYCLE' });
  });
});
