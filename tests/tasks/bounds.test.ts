import { describe, expect, it, vi } from 'vitest';
import { createEnterprise, type Enterprise, type TaskOptions } from '../../src/index.js';
import {
  memoryTaskBackend,
  redisTaskBackend,
  type TaskBackend,
  TaskDependencyError,
  TaskPayloadError,
  TaskSubmitIncompleteError,
} from '../../src/tasks/index.js';
import type { NewTask } from '../../src/tasks/types.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import { eventually, make, shutDownAfterEach } from './pool-helpers.js';
import { redisBackends } from './redis/helpers.js';

/**
 * What keeps the task module within bounds whatever it is given: the payload size cap, submitMany
 * in batches, and a lease long enough for the backend's command timeout.
 */

shutDownAfterEach();

const QUEUE = 'default';

function submitter(backend: TaskBackend, tasks: TaskOptions = {}): Enterprise {
  return make(backend, { strictNames: false, ...tasks });
}

describe('payload size cap', () => {
  it('refuses a payload over 2 MiB by default, naming size, limit and option, storing nothing of the call', async () => {
    const backend = memoryTaskBackend();
    const e = submitter(backend);
    const big = 'x'.repeat(2_097_152); // its JSON text has two quotes more
    const error = await e.tasks
      .submitMany([
        { name: 'small', payload: { ok: true } },
        { name: 'big', payload: big },
      ])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TaskPayloadError);
    expect(error).toMatchObject({
      code: 'E_TASK_PAYLOAD',
      context: { bytes: 2_097_154, limit: 2_097_152, name: 'big' },
    });
    expect((error as Error).message).toMatch(
      /submissions\[1\]\.payload.*2097154 bytes.*2097152.*tasks\.maxPayloadBytes/,
    );
    expect(await backend.counts(QUEUE)).toMatchObject({ waiting: 0, delayed: 0, blocked: 0 });
    // Exactly at the limit is accepted.
    await e.tasks.submit('big', 'x'.repeat(2_097_150));
    expect((await backend.counts(QUEUE)).waiting).toBe(1);
  });

  it('honours a custom limit, counting UTF-8 bytes rather than characters', async () => {
    const backend = memoryTaskBackend();
    const e = submitter(backend, { maxPayloadBytes: 100 });
    await e.tasks.submit('fits', 'a'.repeat(98));
    // 60 characters, 122 bytes as JSON.
    await expect(e.tasks.submit('accents', 'é'.repeat(60))).rejects.toMatchObject({
      code: 'E_TASK_PAYLOAD',
      context: { bytes: 122, limit: 100 },
    });
    await expect(e.tasks.submit('long', 'a'.repeat(99))).rejects.toBeInstanceOf(TaskPayloadError);
    expect((await backend.counts(QUEUE)).waiting).toBe(1);
  });

  it('refuses a bad maxPayloadBytes with a ConfigError naming the option', () => {
    for (const value of [0, -1, 1.5, '1MB', 600_000_000]) {
      expect(() =>
        createEnterprise({
          env: {},
          logLevel: 'silent',
          tasks: { maxPayloadBytes: value as number },
        }),
      ).toThrow(
        expect.objectContaining({
          code: 'E_CONFIG_INVALID',
          message: expect.stringMatching(/tasks\.maxPayloadBytes/),
        }),
      );
    }
  });
});

/** 2,500 tasks; task i < 1,000 depends on task i + 1,500, later in the call (another batch). */
function manyWithDependencies(tag: string) {
  return Array.from({ length: 2_500 }, (_, i) => ({
    name: 'part',
    payload: i,
    options: {
      id: `${tag}-${i}`,
      dependsOn: i < 1_000 ? [`${tag}-${i + 1_500}`] : [],
    },
  }));
}

/** Every add call held at most 1,000 tasks, and stored a dependency no later than its dependent. */
function expectBatched(calls: (readonly NewTask[])[], total: number) {
  expect(calls.length).toBeGreaterThanOrEqual(3);
  const storedIn = new Map<string, number>();
  calls.forEach((batch, n) => {
    expect(batch.length).toBeLessThanOrEqual(1_000);
    for (const task of batch) storedIn.set(task.id, n);
  });
  expect(storedIn.size).toBe(total);
  for (const batch of calls) {
    for (const task of batch) {
      for (const dep of task.dependsOn)
        expect(storedIn.get(dep)!).toBeLessThanOrEqual(storedIn.get(task.id)!);
    }
  }
}

async function submitsInBatches(backend: TaskBackend): Promise<void> {
  const add = vi.spyOn(backend, 'add');
  const e = submitter(backend);
  const submissions = manyWithDependencies('b');
  const submitted: string[] = [];
  e.tasks.on('submitted', (event) => submitted.push(event.id));
  const ids = await e.tasks.submitMany(submissions);
  expect(ids).toEqual(submissions.map((s) => s.options.id));
  expectBatched(
    add.mock.calls.map(([batch]) => batch),
    2_500,
  );
  expect(submitted).toHaveLength(2_500);
  expect(await backend.counts(QUEUE)).toMatchObject({ waiting: 1_500, blocked: 1_000 });

  // The dependencies hold: a dependent runs only after its dependency completed.
  const order: number[] = [];
  e.tasks.register('part', (i: number) => {
    order.push(i);
  });
  await e.start();
  // Retention keeps 1,000 completed tasks: count the runs instead.
  await eventually(() => order.length === 2_500, 'every task to run', 20_000);
  const position = new Map(order.map((i, n) => [i, n]));
  for (let i = 0; i < 1_000; i++)
    expect(position.get(i)!).toBeGreaterThan(position.get(i + 1_500)!);
}

async function refusesUnknownDependency(backend: TaskBackend): Promise<void> {
  const add = vi.spyOn(backend, 'add');
  const e = submitter(backend);
  const submissions = manyWithDependencies('u');
  submissions[2_400]!.options.dependsOn = ['stored-nowhere'];
  const error = await e.tasks.submitMany(submissions).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(TaskDependencyError);
  expect(error).toMatchObject({ context: { id: 'u-2400', dependency: 'stored-nowhere' } });
  expect(add).not.toHaveBeenCalled();
  expect(await backend.counts(QUEUE)).toMatchObject({ waiting: 0, blocked: 0 });
}

describe('submitMany in bounded batches (memory)', () => {
  it('stores 2,500 tasks in batches of at most 1,000, each dependency before its dependent', async () => {
    await submitsInBatches(memoryTaskBackend());
  }, 30_000);

  it('refuses an unknown external dependency before storing anything', async () => {
    await refusesUnknownDependency(memoryTaskBackend());
  });

  it('accepts external dependencies that exist', async () => {
    const backend = memoryTaskBackend();
    const e = submitter(backend);
    const [first] = await e.tasks.submitMany([{ name: 'x', payload: 0 }]);
    const submissions = Array.from({ length: 1_500 }, (_, i) => ({
      name: 'x',
      payload: i,
      options: { dependsOn: [first!] },
    }));
    await e.tasks.submitMany(submissions);
    expect(await backend.counts(QUEUE)).toMatchObject({ waiting: 1, blocked: 1_500 });
  });

  it('says which tasks were stored when a later batch fails', async () => {
    const backend = memoryTaskBackend();
    let calls = 0;
    const failing = new Proxy(backend, {
      get(target, property, receiver) {
        if (property === 'add') {
          return (tasks: readonly NewTask[]) => {
            calls += 1;
            if (calls === 2) return Promise.reject(new Error('the store went away'));
            return target.add(tasks);
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const e = submitter(failing);
    const error = await e.tasks
      .submitMany(Array.from({ length: 2_500 }, (_, i) => ({ name: 'x', payload: i })))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TaskSubmitIncompleteError);
    const { context, cause } = error as TaskSubmitIncompleteError;
    expect(context).toMatchObject({ stored: 1_000, total: 2_500 });
    expect(context.storedIds).toHaveLength(1_000);
    expect((cause as Error).message).toBe('the store went away');
    expect((await backend.counts(QUEUE)).waiting).toBe(1_000);
  });
});

describe('leaseMs against the backend command timeout', () => {
  it('refuses a lease under three command timeouts, naming both values', () => {
    const backend = redisTaskBackend({ url: REDIS_URL, commandTimeoutMs: 5_000 });
    try {
      expect(() =>
        createEnterprise({ env: {}, logLevel: 'silent', tasks: { backend, leaseMs: 10_000 } }),
      ).toThrow(
        expect.objectContaining({
          code: 'E_CONFIG_INVALID',
          message: expect.stringMatching(/tasks\.leaseMs=10000.*commandTimeoutMs=5000/),
        }),
      );
      // The defaults (30 s, 5 s) and the boundary pass.
      createEnterprise({ env: {}, logLevel: 'silent', tasks: { backend } });
      createEnterprise({ env: {}, logLevel: 'silent', tasks: { backend, leaseMs: 15_000 } });
    } finally {
      void backend.close();
    }
  });

  it('checks a backend chosen by name once it is created', async () => {
    const e = createEnterprise({
      env: {},
      logLevel: 'silent',
      redisUrl: REDIS_URL,
      tasks: { backend: 'redis', leaseMs: 10_000 },
    });
    try {
      await expect(e.tasks.backend()).rejects.toMatchObject({ code: 'E_CONFIG_INVALID' });
    } finally {
      await e.shutdown();
    }
  });
});

describe.runIf(requires(redis))('submitMany in bounded batches (redis)', () => {
  const redisStore = redisBackends('batches');
  const backend = () => redisStore.backend(redisStore.prefix());

  it('stores 2,500 tasks in ADD scripts of at most 1,000, each dependency before its dependent', async () => {
    await submitsInBatches(backend());
  }, 30_000);

  it('refuses an unknown external dependency before storing anything', async () => {
    await refusesUnknownDependency(backend());
  });
});
