import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  memoryTaskBackend,
  type TaskBackend,
  TaskGroupError,
  TaskLimitError,
} from '../../src/tasks/index.js';
import { eventually, make, shutDownAfterEach } from './pool-helpers.js';

/** Groups and rate limits through the task engine (memory backend), and what they refuse. */

shutDownAfterEach();

describe('groups through the engine', () => {
  it('runs a shallow group beside a deep one instead of after it', async () => {
    const backend: TaskBackend = memoryTaskBackend();
    const e = make(backend, { workerCount: 1, prefetch: 0 });
    const order: string[] = [];
    e.tasks.register('job', async ({ group }: { group: string }) => {
      order.push(group);
    });
    await e.tasks.submitMany([
      ...Array.from({ length: 50 }, () => ({
        name: 'job',
        payload: { group: 'deep' },
        options: { group: 'deep' },
      })),
      ...Array.from({ length: 5 }, () => ({
        name: 'job',
        payload: { group: 'shallow' },
        options: { group: 'shallow' },
      })),
    ]);
    await e.start();
    await eventually(async () => order.length === 55, 'every task ran');
    expect(order.slice(0, 10).filter((g) => g === 'shallow')).toHaveLength(5);
  });

  it('shows the group of a task', async () => {
    const e = make(memoryTaskBackend());
    const id = await e.tasks.submit('job', {}, { group: 'tenant-42', allowUnknown: true });
    expect((await e.tasks.get(id))?.group).toBe('tenant-42');
    const { total, groups } = await e.tasks.groups.list();
    expect(total).toBe(1);
    expect(groups[0]).toMatchObject({ group: 'tenant-42', waiting: 1, active: 0 });
  });

  it('hands back a task whose handler was rate-limited without spending an attempt', async () => {
    const e = make(memoryTaskBackend(), { workerCount: 1, prefetch: 0 });
    const runs: { attempt: number; at: number }[] = [];
    e.tasks.register(
      'call_api',
      async (_payload: unknown, ctx) => {
        runs.push({ attempt: ctx.attempt, at: Date.now() });
        if (runs.length === 1) ctx.rateLimited('300ms');
        return 'ok';
      },
      { maxRetries: 0 },
    );
    const id = await e.tasks.submit('call_api', {}, { group: 'acct-1' });
    await e.start();
    const done = await e.tasks.waitFor(id, { timeout: '5s' });
    expect(done.state).toBe('completed');
    expect(done.attempts).toBe(1);
    expect(runs.map((r) => r.attempt)).toEqual([1, 1]);
    expect(runs[1]!.at - runs[0]!.at).toBeGreaterThanOrEqual(250);
  });

  it('holds a group to its maxConcurrency in the engine', async () => {
    const e = make(memoryTaskBackend(), { workerCount: 4, prefetch: 0 });
    let running = 0;
    let most = 0;
    e.tasks.register('slow', async () => {
      running += 1;
      most = Math.max(most, running);
      await sleep(20);
      running -= 1;
    });
    await e.tasks.groups.configureQueue('default', { groups: { maxConcurrency: 2 } });
    await e.tasks.submitMany(
      Array.from({ length: 12 }, () => ({ name: 'slow', payload: {}, options: { group: 'g' } })),
    );
    await e.start();
    await eventually(async () => (await e.tasks.stats()).queues[0]?.completed === 12, 'all ran');
    expect(most).toBe(2);
  });
});

describe('groups and limits refuse bad input', () => {
  it('refuses an empty, too long or badly spelled group before storing anything', async () => {
    const e = make(memoryTaskBackend());
    const submit = (group: unknown, id?: string) =>
      e.tasks.submit('job', {}, { group: group as string, allowUnknown: true, id });
    await expect(submit('')).rejects.toThrow(TaskGroupError);
    await expect(submit('tenant 42')).rejects.toMatchObject({ code: 'E_TASK_GROUP' });
    await expect(submit('a{b}')).rejects.toThrow(TaskGroupError);
    await expect(submit(42)).rejects.toThrow(TaskGroupError);
    // The group counts toward the 200 characters of the task id.
    await expect(submit('g'.repeat(60), 'i'.repeat(150))).rejects.toThrow(/within 200/);
    expect(await submit('g'.repeat(50), 'i'.repeat(150))).toBe('i'.repeat(150));
    expect((await e.tasks.groups.list()).total).toBe(1);
  });

  it('refuses a limit or window that is not positive, and a bad weight or cap', async () => {
    const e = make(memoryTaskBackend());
    const g = e.tasks.groups;
    await expect(g.configureQueue('q', { rateLimit: { limit: 0, per: '1s' } })).rejects.toThrow(
      TaskLimitError,
    );
    await expect(g.configureQueue('q', { rateLimit: { limit: 1.5, per: '1s' } })).rejects.toThrow(
      TaskLimitError,
    );
    await expect(g.configureQueue('q', { rateLimit: { limit: 10, per: 0 } })).rejects.toMatchObject(
      { code: 'E_TASK_LIMIT' },
    );
    await expect(g.configureQueue('q', { rateLimit: { limit: 10, per: '-1s' } })).rejects.toThrow(
      TaskLimitError,
    );
    await expect(
      g.configureQueue('q', { groups: { rateLimit: { limit: -1, per: '1s' } } }),
    ).rejects.toThrow(TaskLimitError);
    await expect(g.configureQueue('q', { groups: { maxConcurrency: -1 } })).rejects.toThrow(
      TaskLimitError,
    );
    await expect(g.configure('q', 'g', { weight: 0 })).rejects.toThrow(TaskLimitError);
    await expect(g.configure('q', '', { weight: 1 })).rejects.toThrow(TaskGroupError);
  });
});
