import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Enterprise } from '../../src/index.js';
import { memoryTaskBackend, type TaskBackend } from '../../src/tasks/index.js';
import { redis, requires } from '../support/requirements.js';
import { deafTo, eventually, make, shutDownAfterEach } from './pool-helpers.js';
import { redisBackends } from './redis/helpers.js';

/**
 * `groups.pause()` stops what was prefetched too: once it resolves, the calling process starts no
 * task of the group and its claimed-ahead tasks of it are back in the queue at their place, their
 * attempt not spent; other processes stop when the backend's `group-paused` event reaches them.
 * The other groups go on.
 */

shutDownAfterEach();

const PER_GROUP = 12;

/** One slot and eight tasks claimed ahead, each task running 100 ms; starts by group. */
function slowPool(
  backend: TaskBackend,
  started: Map<string, string[]>,
  heartbeatMs?: number,
): Enterprise {
  const e = make(backend, { workerCount: 1, prefetch: 8, ...(heartbeatMs ? { heartbeatMs } : {}) });
  e.tasks.register('slow', async ({ group }: { group: string }, ctx) => {
    started.set(group, [...(started.get(group) ?? []), ctx.id]);
    await sleep(100);
  });
  return e;
}

async function submitTwoGroups(e: Enterprise): Promise<Map<string, string[]>> {
  const ids = new Map<string, string[]>();
  for (const group of ['paused', 'other']) {
    ids.set(
      group,
      await e.tasks.submitMany(
        Array.from({ length: PER_GROUP }, () => ({
          name: 'slow',
          payload: { group },
          options: { group },
        })),
      ),
    );
  }
  return ids;
}

/** The pool is running one task with eight more claimed ahead (of both groups, in turns). */
async function untilPrefetched(backend: TaskBackend): Promise<void> {
  await eventually(
    async () => (await backend.counts('default')).active === 9,
    'one task running and eight prefetched',
  );
}

async function checkPausedGroup(
  e: Enterprise,
  ids: Map<string, string[]>,
  started: Map<string, string[]>,
  startedAtPause: number,
): Promise<void> {
  expect(startedAtPause).toBeLessThan(PER_GROUP);
  const list = await e.tasks.groups.list('default');
  const paused = list.groups.find((g) => g.group === 'paused')!;
  expect(paused.paused).toBe(true);
  // Nothing of the group is held by a worker (one may still run when the pause is heard).
  expect(paused.active).toBeLessThanOrEqual(1);
  for (const id of ids.get('paused')!) {
    if (started.get('paused')?.includes(id)) continue;
    const task = await e.tasks.get(id);
    expect(task?.state).toBe('waiting');
    expect(task?.attempts).toBe(0);
  }
  // The other group goes on meanwhile, the paused one starts nothing.
  const otherBefore = started.get('other')?.length ?? 0;
  await sleep(600);
  expect(started.get('paused')?.length ?? 0).toBe(startedAtPause);
  expect(started.get('other')?.length ?? 0).toBeGreaterThan(otherBefore);
}

async function pausesInThisProcess(backend: TaskBackend): Promise<void> {
  const started = new Map<string, string[]>();
  const e = slowPool(backend, started);
  const ids = await submitTwoGroups(e);
  await e.start();
  await untilPrefetched(backend);

  await e.tasks.groups.pause('default', 'paused');
  const startedAtPause = started.get('paused')?.length ?? 0;
  // Given back at once: only a running task of the group may still be held.
  const list = await e.tasks.groups.list('default');
  expect(list.groups.find((g) => g.group === 'paused')!.active).toBeLessThanOrEqual(1);
  await checkPausedGroup(e, ids, started, startedAtPause);

  await e.tasks.groups.resume('default', 'paused');
  await eventually(
    async () => (await backend.counts('default')).completed === 2 * PER_GROUP,
    'every task after resume',
    15_000,
  );
  // Given back in order: the group's tasks started in submission order.
  expect(started.get('paused')).toEqual(ids.get('paused'));
  for (const id of [...ids.values()].flat()) expect((await e.tasks.get(id))?.attempts).toBe(1);
}

/**
 * Another instance pauses the group. The worker stops when it hears the `group-paused` event or,
 * with `eventsLost` (it never hears `group-paused` nor `group-resumed`: its subscription was down),
 * at its next read of the paused groups (every heartbeat, 100 ms here).
 */
async function pausesInAnotherInstance(
  one: TaskBackend,
  other: TaskBackend,
  { subscribed = async () => {}, eventsLost = false } = {},
): Promise<void> {
  const started = new Map<string, string[]>();
  const worker = eventsLost
    ? slowPool(deafTo(one, ['group-paused', 'group-resumed']), started, 100)
    : slowPool(one, started);
  const admin = make(other, { workerCount: 1 });
  const ids = await submitTwoGroups(worker);
  await worker.start();
  await untilPrefetched(one);
  await subscribed();

  await admin.tasks.groups.pause('default', 'paused');
  // Within one event's delivery (or two heartbeats) the worker gives back what it claimed of the
  // group, and the task running at the pause has ended.
  await sleep(300);
  const stoppedAt = started.get('paused')?.length ?? 0;
  await checkPausedGroup(worker, ids, started, stoppedAt);

  await admin.tasks.groups.resume('default', 'paused');
  await eventually(
    () => (started.get('paused')?.length ?? 0) === PER_GROUP,
    'every task after resume',
    15_000,
  );
  expect(started.get('paused')).toEqual(ids.get('paused'));
  for (const id of ids.get('paused')!) {
    await eventually(async () => (await worker.tasks.get(id))?.state === 'completed', id);
    expect((await worker.tasks.get(id))?.attempts).toBe(1);
  }
}

describe('group pause with the memory backend', () => {
  it('stops what a process claimed ahead of a group whose pause event it never heard, within a heartbeat', async () => {
    const backend = memoryTaskBackend();
    await pausesInAnotherInstance(backend, backend, { eventsLost: true });
  });

  it('starts nothing of the group once pause() resolves; prefetched tasks go back uncounted, in order', async () => {
    await pausesInThisProcess(memoryTaskBackend());
  });

  it('stops the pools of another instance on the same store', async () => {
    const backend = memoryTaskBackend();
    await pausesInAnotherInstance(backend, backend);
  });
});

describe.runIf(requires(redis))('group pause with the redis backend', () => {
  const redisStore = redisBackends('gpause');

  it('starts nothing of the group once pause() resolves; prefetched tasks go back uncounted, in order', async () => {
    await pausesInThisProcess(redisStore.backend(redisStore.prefix()));
  });

  it('stops what a process claimed ahead of a group whose pause event it never heard, within a heartbeat', async () => {
    const prefix = redisStore.prefix();
    await pausesInAnotherInstance(redisStore.backend(prefix), redisStore.backend(prefix), {
      eventsLost: true,
    });
  });

  it('stops the pools of an instance with its own connections (another subscriber)', async () => {
    const prefix = redisStore.prefix();
    await pausesInAnotherInstance(redisStore.backend(prefix), redisStore.backend(prefix), {
      subscribed: () => redisStore.subscribed(prefix),
    });
  });
});
