import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ClaimedTask,
  TaskBackend,
  TaskBackendEvent,
  TaskGroupBackend,
} from '../../tasks/types.js';
import type { BackendSuite } from './context.js';

/** Groups (turns, priorities inside a group, weights, caps, pause) and rate limits. */
export function groupsTests(s: BackendSuite): void {
  const { describe, it, expect } = s.api;
  const { task, claimAll, claimOne, complete, lease } = s;
  const gb = () => s.backend as TaskBackend & TaskGroupBackend;
  const groupsOf = (claimed: readonly ClaimedTask[]) => claimed.map((c) => c.task.group ?? '-');
  const count = (list: readonly string[], name: string) => list.filter((g) => g === name).length;
  /** Claims one task at a time, `n` times; returns each one's group ('-' for none). */
  const claimSeries = async (n: number) => {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) seen.push(...groupsOf(await claimAll(1)));
    return seen;
  };

  describe('groups', () => {
    it('stores and hands out the group of a task', async () => {
      const t = task({ group: 'tenant-1' });
      await s.backend.add([t]);
      expect((await s.backend.get(s.queue, t.id))?.group).toBe('tenant-1');
      const claimed = await claimOne();
      expect(claimed.task.group).toBe('tenant-1');
      expect((await s.backend.counts(s.queue)).active).toBe(1);
    });

    it('gives a group with many ready tasks and a group with few equal turns', async () => {
      const big = Array.from({ length: 40 }, () => task({ group: 'big' }));
      const small = Array.from({ length: 4 }, () => task({ group: 'small' }));
      await s.backend.add([...big, ...small]);
      expect((await s.backend.counts(s.queue)).waiting).toBe(44);
      const first = await claimSeries(8);
      expect(count(first, 'big')).toBe(4);
      expect(count(first, 'small')).toBe(4);
      // The small group is done: the big one gets every turn.
      expect(groupsOf(await claimAll(10))).toEqual(Array(10).fill('big'));
    });

    it('takes turns within one claim of many tasks too', async () => {
      await s.backend.add([
        ...Array.from({ length: 20 }, () => task({ group: 'a' })),
        ...Array.from({ length: 20 }, () => task({ group: 'b' })),
        ...Array.from({ length: 20 }, () => task({ group: 'c' })),
      ]);
      const claimed = groupsOf(await claimAll(9));
      expect([count(claimed, 'a'), count(claimed, 'b'), count(claimed, 'c')]).toEqual([3, 3, 3]);
    });

    it('orders the tasks of a group by priority, then submission', async () => {
      const low = task({ group: 'g', priority: 80 });
      const urgent = task({ group: 'g', priority: 5 });
      const normal = task({ group: 'g', priority: 50 });
      await s.backend.add([low, urgent, normal]);
      const ids = (await claimAll(3)).map((c) => c.task.id);
      expect(ids).toEqual([urgent.id, normal.id, low.id]);
    });

    it('lets the ungrouped tasks take turns with the groups', async () => {
      await s.backend.add([
        ...Array.from({ length: 10 }, () => task()),
        ...Array.from({ length: 10 }, () => task({ group: 'g' })),
      ]);
      const seen = await claimSeries(6);
      expect(count(seen, '-')).toBe(3);
      expect(count(seen, 'g')).toBe(3);
    });

    it('gives turns in proportion to the weights', async () => {
      await gb().configureGroup(s.queue, 'heavy', { weight: 3 });
      await s.backend.add([
        ...Array.from({ length: 30 }, () => task({ group: 'heavy' })),
        ...Array.from({ length: 30 }, () => task({ group: 'light' })),
      ]);
      const seen = await claimSeries(16);
      expect(count(seen, 'heavy')).toBe(12);
      expect(count(seen, 'light')).toBe(4);
    });

    it('holds a group to its maxConcurrency across claims until its tasks finish', async () => {
      await gb().configureQueue(s.queue, { groupMaxConcurrency: 2 });
      await gb().configureGroup(s.queue, 'one', { maxConcurrency: 1 });
      await s.backend.add([
        ...Array.from({ length: 5 }, () => task({ group: 'one' })),
        ...Array.from({ length: 5 }, () => task({ group: 'two' })),
      ]);
      const claimed = await claimAll(10);
      expect(count(groupsOf(claimed), 'one')).toBe(1);
      expect(count(groupsOf(claimed), 'two')).toBe(2);
      expect(await claimAll(10)).toEqual([]);
      const one = claimed.find((c) => c.task.group === 'one')!;
      await s.backend.finish(s.queue, [complete(one)]);
      expect(groupsOf(await claimAll(10))).toEqual(['one']);
      // A released task frees its place as well.
      const two = claimed.find((c) => c.task.group === 'two')!;
      await s.backend.release(s.queue, [lease(two)]);
      expect(groupsOf(await claimAll(10))).toEqual(['two']);
    });

    it('counts the tasks a group already holds when its cap is set later', async () => {
      await s.backend.add(Array.from({ length: 6 }, () => task({ group: 'late' })));
      const held = await claimAll(2);
      expect(held).toHaveLength(2);
      await gb().configureGroup(s.queue, 'late', { maxConcurrency: 2 });
      expect(await claimAll(10)).toEqual([]);
      expect((await gb().groups(s.queue, 10)).groups[0]).toMatchObject({
        group: 'late',
        waiting: 4,
        active: 2,
      });
      await s.backend.finish(s.queue, [complete(held[0]!)]);
      expect(groupsOf(await claimAll(10))).toEqual(['late']);
      // Without the cap the group takes its turns again at once.
      await gb().configureGroup(s.queue, 'late', {});
      expect(groupsOf(await claimAll(10))).toEqual(['late', 'late', 'late']);
    });

    it('lists the tasks each group holds when no group has a cap', async () => {
      await s.backend.add([
        ...Array.from({ length: 3 }, () => task({ group: 'x' })),
        task({ group: 'y' }),
        task(),
      ]);
      await claimAll(4);
      const listed = await gb().groups(s.queue, 10);
      const byName = Object.fromEntries(listed.groups.map((g) => [g.group, g]));
      expect(byName.x).toMatchObject({ waiting: 1, active: 2 });
      expect(byName.y).toMatchObject({ waiting: 0, active: 1 });
      expect(listed.total).toBe(2);
      expect(listed.active).toBe(3);
      expect((await s.backend.counts(s.queue)).waiting).toBe(1);
    });

    it('frees the place of a task whose lease expired', async () => {
      await gb().configureGroup(s.queue, 'g', { maxConcurrency: 1 });
      await s.backend.add([task({ group: 'g' }), task({ group: 'g' })]);
      expect(await claimAll(5, 'w1', 100)).toHaveLength(1);
      expect(await claimAll(5)).toEqual([]);
      await sleep(250);
      await s.backend.recoverExpired(s.queue, Date.now());
      expect(await claimAll(5)).toHaveLength(1);
    });

    it('pauses and resumes one group', async () => {
      await s.backend.add([task({ group: 'p' }), task({ group: 'p' }), task({ group: 'q' })]);
      await gb().pauseGroup(s.queue, 'p');
      expect(groupsOf(await claimAll(10))).toEqual(['q']);
      const listed = await gb().groups(s.queue, 10);
      expect(listed.groups.find((g) => g.group === 'p')).toMatchObject({
        paused: true,
        waiting: 2,
      });
      await gb().resumeGroup(s.queue, 'p');
      expect(groupsOf(await claimAll(10))).toEqual(['p', 'p']);
    });

    it('lists its paused groups, sorted, those without tasks too (pausedGroups, when implemented)', async () => {
      if (gb().pausedGroups === undefined) return;
      expect(await gb().pausedGroups!(s.queue)).toEqual([]);
      await s.backend.add([task({ group: 'p' })]);
      await gb().pauseGroup(s.queue, 'p');
      await gb().pauseGroup(s.queue, 'empty');
      expect(await gb().pausedGroups!(s.queue)).toEqual(['empty', 'p']);
      await gb().resumeGroup(s.queue, 'p');
      expect(await gb().pausedGroups!(s.queue)).toEqual(['empty']);
      await gb().resumeGroup(s.queue, 'empty');
      expect(await gb().pausedGroups!(s.queue)).toEqual([]);
      expect(await gb().pausedGroups!(`${s.queue}-never-used`)).toEqual([]);
    });

    it('tells subscribers when a group is paused and resumed', async () => {
      const heard: TaskBackendEvent[] = [];
      const off = await s.subscribed(s.backend, (event) => heard.push(event));
      await gb().pauseGroup(s.queue, 'p');
      await gb().resumeGroup(s.queue, 'p');
      for (let waited = 0; heard.length < 2 && waited < 2_000; waited += 20) await sleep(20);
      off();
      const base = { queue: s.queue, id: '', name: '', group: 'p' };
      expect(heard).toEqual([
        { type: 'group-paused', ...base },
        { type: 'group-resumed', ...base },
      ]);
    });

    it("tells subscribers when a queue's limits are stored", async () => {
      const heard: TaskBackendEvent[] = [];
      const off = await s.subscribed(s.backend, (event) => heard.push(event));
      await gb().configureQueue(s.queue, { rateLimit: { limit: 5, perMs: 1_000 } });
      await gb().configureQueue(s.queue, {});
      for (let waited = 0; heard.length < 2 && waited < 2_000; waited += 20) await sleep(20);
      off();
      const event = { type: 'limits', queue: s.queue, id: '', name: '' };
      expect(heard).toEqual([event, event]);
    });

    it('lists groups deepest first with their waiting and active tasks and settings', async () => {
      await gb().configureGroup(s.queue, 'b', { weight: 2, maxConcurrency: 4 });
      await s.backend.add([
        ...Array.from({ length: 3 }, () => task({ group: 'a' })),
        ...Array.from({ length: 5 }, () => task({ group: 'b' })),
      ]);
      await claimAll(2);
      const { total, groups } = await gb().groups(s.queue, 10);
      expect(total).toBe(2);
      expect(groups.map((g) => g.group)).toEqual(['b', 'a']);
      expect(groups[0]).toMatchObject({ waiting: 4, active: 1, weight: 2, maxConcurrency: 4 });
      expect(groups[1]).toMatchObject({ waiting: 2, active: 1, weight: 1, maxConcurrency: 0 });
      expect((await gb().groups(s.queue, 1)).groups).toHaveLength(1);
    });

    it('forgets a cancelled grouped task', async () => {
      const t = task({ group: 'c' });
      await s.backend.add([t, task({ group: 'c' })]);
      expect(await s.backend.cancel(s.queue, t.id)).toBe(true);
      expect((await gb().groups(s.queue, 10)).groups[0]).toMatchObject({ group: 'c', waiting: 1 });
      const claimed = await claimAll(10);
      expect(claimed).toHaveLength(1);
      expect(claimed[0]!.task.id).not.toBe(t.id);
    });

    it('puts a retried grouped task back in its group', async () => {
      await s.backend.add([task({ group: 'r' })]);
      const claimed = await claimOne();
      await s.backend.finish(s.queue, [s.retry(claimed, Date.now())]);
      expect(groupsOf(await claimAll(5))).toEqual(['r']);
    });
  });

  describe('rate limits', () => {
    it('starts at most the queue limit per window', async () => {
      await gb().configureQueue(s.queue, { rateLimit: { limit: 3, perMs: 60_000 } });
      await s.backend.add(Array.from({ length: 10 }, () => task()));
      const first = await claimAll(10);
      expect(first.length).toBeLessThanOrEqual(3);
      const again = await claimAll(10);
      // Both claims fall in one window unless a minute boundary came between them.
      expect(first.length + again.length === 3 || first.length + again.length <= 6).toBe(true);
      await gb().configureQueue(s.queue, {});
      expect((await claimAll(10)).length).toBeGreaterThan(0);
    });

    it('starts at most the group limit per window in each group', async () => {
      await gb().configureQueue(s.queue, { groupRateLimit: { limit: 2, perMs: 60_000 } });
      await s.backend.add([
        ...Array.from({ length: 5 }, () => task({ group: 'a' })),
        ...Array.from({ length: 5 }, () => task({ group: 'b' })),
      ]);
      const claimed = groupsOf(await claimAll(10));
      expect(count(claimed, 'a')).toBeLessThanOrEqual(2);
      expect(count(claimed, 'b')).toBeLessThanOrEqual(2);
      expect(claimed.length).toBeGreaterThanOrEqual(2);
      const listed = await gb().groups(s.queue, 10);
      expect(listed.groups.some((g) => g.limitedUntil !== undefined)).toBe(true);
    });

    it('shares a named limit between queues', async () => {
      const other = `${s.queue}.b`;
      const sharedLimit = { name: `api-${s.queue}`, limit: 5, perMs: 60_000 };
      await gb().configureQueue(s.queue, { sharedLimit });
      await gb().configureQueue(other, { sharedLimit });
      await s.backend.add([
        ...Array.from({ length: 4 }, () => task()),
        ...Array.from({ length: 4 }, () => task({ queue: other })),
      ]);
      const here = await claimAll(10);
      const there = await s.backend.claim(other, 'w2', 10, 30_000);
      // One window for both unless a minute boundary came between the two claims.
      expect(here).toHaveLength(4);
      expect(there.length === 1 || there.length === 4).toBe(true);
      expect((await gb().groups(other, 1)).limits.sharedLimit).toEqual(sharedLimit);
    });

    it('answers the stored limits alone (queueLimits, when implemented)', async () => {
      const limits = {
        rateLimit: { limit: 7, perMs: 1_000 },
        groupMaxConcurrency: 3,
        groupRateLimit: { limit: 2, perMs: 500 },
        sharedLimit: { name: `ql-${s.queue}`, limit: 9, perMs: 2_000 },
      };
      await gb().configureQueue(s.queue, limits);
      if (gb().queueLimits !== undefined) {
        expect(await gb().queueLimits!(s.queue)).toEqual(limits);
        await gb().configureQueue(s.queue, {});
        expect(await gb().queueLimits!(s.queue)).toEqual({});
      }
      await gb().configureQueue(s.queue, {});
    });

    it('hands a rate-limited task back without an attempt and makes its group wait', async () => {
      await s.backend.add([task({ group: 'slow' }), task({ group: 'slow' })]);
      const [first] = await claimAll(1);
      expect(first!.task.group).toBe('slow');
      await s.backend.add([task({ group: 'other' })]);
      await s.backend.finish(s.queue, [], [lease(first!)]);
      const [result] = await s.backend.finish(s.queue, [
        { kind: 'limited', id: first!.task.id, token: first!.token, retryAfterMs: 400 },
      ]);
      expect(result?.accepted).toBe(true);
      const record = await s.backend.get(s.queue, first!.task.id);
      expect(record).toMatchObject({ state: 'waiting', attempts: 0 });
      expect(groupsOf(await claimAll(10))).toEqual(['other']);
      await sleep(600);
      const later = await claimAll(10);
      expect(groupsOf(later)).toEqual(['slow', 'slow']);
      expect(later.find((c) => c.task.id === first!.task.id)?.task.attempts).toBe(1);
    });

    it('makes the whole queue wait after a rate-limited ungrouped task', async () => {
      await s.backend.add([task(), task()]);
      const first = await claimOne();
      await s.backend.finish(s.queue, [
        { kind: 'limited', id: first.task.id, token: first.token, retryAfterMs: 400 },
      ]);
      expect(await claimAll(10)).toEqual([]);
      await sleep(600);
      expect(await claimAll(10)).toHaveLength(2);
    });

    it('lets waitForWork sleep while the queue waits out its limit', async () => {
      await s.backend.add([task(), task()]);
      const first = await claimOne();
      await s.backend.finish(s.queue, [
        { kind: 'limited', id: first.task.id, token: first.token, retryAfterMs: 600 },
      ]);
      // A worker's claim finds nothing it may start; its next wait lasts until the queue may.
      expect(await claimAll(10)).toEqual([]);
      const started = Date.now();
      await s.backend.waitForWork(s.queue, 2_000, new AbortController().signal);
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    });
  });
}
