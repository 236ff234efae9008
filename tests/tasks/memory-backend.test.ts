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
    // Claiming everything from one queue of 20,000 against ten queues of 2,000 (the same tasks and
    // claims): with a heap the two take about as long; a sort per claim makes the large queue
    // about ten times slower. A ratio, not a time, so a loaded machine slows both alike.
    const drain = async (size: number) => {
      const backend = memoryTaskBackend();
      await backend.add(Array.from({ length: size }, (_, i) => task(`t${i}`, i % 101)));
      const started = performance.now();
      let claimed = 0;
      for (;;) {
        const batch = await backend.claim('q', 'w', 500, 60_000);
        if (batch.length === 0) break;
        claimed += batch.length;
      }
      expect(claimed).toBe(size);
      return performance.now() - started;
    };
    await drain(2_000); // warm-up
    let small = 0;
    for (let i = 0; i < 10; i++) small += await drain(2_000);
    const large = await drain(20_000);
    expect(large / small).toBeLessThan(4);
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
