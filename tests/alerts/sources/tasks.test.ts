import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { taskSources } from '../../../src/alerts/sources/tasks.js';
import { createEnterprise, type Enterprise, type TaskOptions } from '../../../src/index.js';
import { memoryTaskBackend } from '../../../src/tasks/index.js';
import { fakeClock } from '../../support/test-doubles.js';
import { read, valueFor } from './helpers.js';

const instances: Enterprise[] = [];

afterEach(async () => {
  await Promise.all(instances.splice(0).map((e) => e.shutdown()));
});

function make(tasks: TaskOptions = {}): Enterprise {
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
    tasks: { backend: memoryTaskBackend(), ...tasks },
  });
  instances.push(enterprise);
  return enterprise;
}

describe('task value sources', () => {
  it('names its sources, each with a description', () => {
    const sources = taskSources(make().tasks);
    expect(sources.map((s) => s.name)).toEqual([
      'tasks.queue_depth',
      'tasks.oldest_waiting_age_ms',
      'tasks.failure_rate',
      'tasks.dead_letters',
      'tasks.workers_alive',
    ]);
    for (const source of sources) expect(source.description).toBeTruthy();
  });

  it('reads the depth and the oldest waiting age of each queue', async () => {
    const e = make();
    e.tasks.register('send', () => {}, { queue: 'emails' });
    e.tasks.register('resize', () => {}, { queue: 'images' });
    await e.tasks.submitMany([{ name: 'send' }, { name: 'send' }, { name: 'send' }]);
    await sleep(40);
    const sources = taskSources(e.tasks, { reuseMs: 0 });
    const depth = await read(sources, 'tasks.queue_depth');
    expect(valueFor(depth, { queue: 'emails' })).toBe(3);
    expect(valueFor(depth, { queue: 'images' })).toBe(0);
    const age = await read(sources, 'tasks.oldest_waiting_age_ms');
    expect(valueFor(age, { queue: 'emails' })).toBeGreaterThanOrEqual(35);
    expect(valueFor(age, { queue: 'emails' })).toBeLessThan(10_000);
    expect(valueFor(age, { queue: 'images' })).toBe(0);
    // Nothing ran yet: no failure rate to report.
    expect(valueFor(await read(sources, 'tasks.failure_rate'), { queue: 'emails' })).toBeNull();
  });

  it('reads the failure rate and the dead letters of each queue, and the healthy workers', async () => {
    const e = make({ backoff: { delay: '10ms', jitter: 0 } });
    e.tasks.register('ok', () => {}, { queue: 'jobs' });
    e.tasks.register(
      'bad',
      () => {
        throw new Error('nope');
      },
      { queue: 'jobs', maxRetries: 0 },
    );
    e.tasks.register('fine', () => {}, { queue: 'clean' });
    await e.start();
    const ids = await e.tasks.submitMany([
      { name: 'ok' },
      { name: 'bad' },
      { name: 'bad' },
      { name: 'bad' },
      { name: 'fine' },
    ]);
    await Promise.allSettled(ids.map((id) => e.tasks.waitFor(id, { timeout: 5 })));
    const sources = taskSources(e.tasks);
    const rates = await read(sources, 'tasks.failure_rate');
    expect(valueFor(rates, { queue: 'jobs' })).toBeCloseTo(0.75, 10);
    expect(valueFor(rates, { queue: 'clean' })).toBe(0);
    const dead = await read(sources, 'tasks.dead_letters');
    expect(valueFor(dead, { queue: 'jobs' })).toBe(3);
    expect(valueFor(dead, { queue: 'clean' })).toBe(0);
    expect(valueFor(await read(sources, 'tasks.queue_depth'), { queue: 'jobs' })).toBe(0);
    const stats = await e.tasks.stats();
    const pools = new Set(stats.workers.map((w) => w.queue));
    expect(pools.has('jobs') && pools.has('clean')).toBe(true);
    expect(await read(sources, 'tasks.workers_alive')).toEqual([
      { labels: {}, value: stats.workers.length },
    ]);
  });

  it('counts only the healthy worker pools as alive', async () => {
    const backend = memoryTaskBackend();
    const e = make({ backend, heartbeatMs: 100 });
    const now = Date.now();
    const base = { queue: 'default', host: 'h', pid: 1, concurrency: 1, processed: 0, failed: 0 };
    await backend.heartbeat(
      { ...base, id: 'silent', active: 0, startedAt: now - 10_000, lastHeartbeatAt: now - 5_000 },
      60_000,
    );
    await backend.heartbeat(
      { ...base, id: 'beating', active: 0, startedAt: now - 10_000, lastHeartbeatAt: now },
      60_000,
    );
    expect(await read(taskSources(e.tasks), 'tasks.workers_alive')).toEqual([
      { labels: {}, value: 1 },
    ]);
  });

  it('calls stats() once for the sources read together or within reuseMs', async () => {
    const e = make();
    const spy = vi.spyOn(e.tasks, 'stats');
    const clock = fakeClock();
    const sources = taskSources(e.tasks, { clock, reuseMs: 1_000 });
    await Promise.all(sources.map((s) => s.read()));
    for (const source of sources) await source.read();
    expect(spy).toHaveBeenCalledTimes(1);
    clock.advance(1_000);
    await read(sources, 'tasks.dead_letters');
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('rejects a read when stats() rejects, and tries again on the next read', async () => {
    const e = make();
    const spy = vi.spyOn(e.tasks, 'stats').mockRejectedValueOnce(new Error('backend down'));
    const sources = taskSources(e.tasks);
    await expect(read(sources, 'tasks.queue_depth')).rejects.toThrow('backend down');
    await expect(read(sources, 'tasks.workers_alive')).resolves.toEqual([{ labels: {}, value: 0 }]);
    expect(spy).toHaveBeenCalledTimes(2);
  });
});
