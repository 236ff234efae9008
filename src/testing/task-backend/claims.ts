import { setTimeout as sleep } from 'node:timers/promises';
import { BACKOFF, type BackendSuite, ERROR } from './context.js';

/** Adding tasks, the order of claims and what a claim hands out. */
export function claimsTests(s: BackendSuite): void {
  const { describe, it, expect } = s.api;
  const { task, claimAll, claimOne, lease, complete, retry } = s;

  describe('add and get', () => {
    it('stores a task as given and returns it as waiting with no attempts', async () => {
      const t = task({
        payload: '{"a":[1,2],"b":"x"}',
        priority: 7,
        maxRetries: 5,
        timeoutMs: 1_500,
        name: 'send_email',
      });
      const [outcome] = await s.backend.add([t]);
      expect(outcome).toEqual({ id: t.id, created: true, state: 'waiting' });
      const record = await s.backend.get(s.queue, t.id);
      expect(record).toMatchObject({
        id: t.id,
        name: 'send_email',
        queue: s.queue,
        payload: '{"a":[1,2],"b":"x"}',
        priority: 7,
        runAt: t.runAt,
        maxRetries: 5,
        backoff: BACKOFF,
        timeoutMs: 1_500,
        failOnDependencyFailure: true,
        createdAt: t.createdAt,
        state: 'waiting',
        attempts: 0,
      });
      expect([...record!.dependsOn]).toEqual([]);
      expect(record!.result).toBeUndefined();
      expect(record!.error).toBeUndefined();
      expect(record!.workerId).toBeUndefined();
    });

    it('answers undefined for an unknown id', async () => {
      expect(await s.backend.get(s.queue, 'no-such-task')).toBeUndefined();
    });

    it('keeps the first task when an id is submitted again, in a later call or the same one', async () => {
      const t = task({ payload: '"first"' });
      await s.backend.add([t]);
      const again = await s.backend.add([{ ...t, payload: '"second"', priority: 0 }]);
      expect(again).toEqual([{ id: t.id, created: false, state: 'waiting' }]);
      const u = task({ payload: '"u1"' });
      const both = await s.backend.add([u, { ...u, payload: '"u2"' }]);
      expect(both.map((o) => o.created)).toEqual([true, false]);
      expect((await s.backend.get(s.queue, t.id))?.payload).toBe('"first"');
      expect((await s.backend.get(s.queue, u.id))?.payload).toBe('"u1"');
      expect((await s.backend.counts(s.queue)).waiting).toBe(2);
      expect(await claimAll()).toHaveLength(2);
    });

    it('reports the current state of an existing task when it is added again', async () => {
      const t = task();
      await s.backend.add([t]);
      await claimOne();
      expect(await s.backend.add([t])).toEqual([{ id: t.id, created: false, state: 'active' }]);
    });

    it('lists the queues tasks were added to', async () => {
      await s.backend.add([task(), task({ queue: `${s.queue}.b` })]);
      const queues = await s.backend.queues();
      expect(queues).toContain(s.queue);
      expect(queues).toContain(`${s.queue}.b`);
    });

    it('keeps queues apart', async () => {
      const other = task({ queue: `${s.queue}.b` });
      await s.backend.add([other]);
      expect(await s.backend.get(s.queue, other.id)).toBeUndefined();
      expect(await claimAll()).toEqual([]);
      const [claimed] = await s.backend.claim(`${s.queue}.b`, 'w1', 5, 30_000);
      expect(claimed?.task.id).toBe(other.id);
    });
  });

  describe('claim order', () => {
    it('hands out the lowest priority number first, then in submission order', async () => {
      const now = Date.now();
      const a = task({ priority: 50, createdAt: now });
      const b = task({ priority: 0, createdAt: now });
      const c = task({ priority: 75, createdAt: now });
      const d = task({ priority: 50, createdAt: now });
      const e = task({ priority: 25, createdAt: now });
      await s.backend.add([a, b]);
      await s.backend.add([c]);
      await s.backend.add([d, e]);
      const claimed = await claimAll(10);
      expect(claimed.map((x) => x.task.id)).toEqual([b.id, e.id, a.id, d.id, c.id]);
    });

    it('keeps that order when claimed one at a time', async () => {
      const ids: string[] = [];
      for (const priority of [100, 0, 50, 0, 100, 50]) {
        const t = task({ priority });
        ids.push(t.id);
        await s.backend.add([t]);
      }
      const order: string[] = [];
      for (let i = 0; i < 6; i++) order.push((await claimOne()).task.id);
      expect(order).toEqual([ids[1], ids[3], ids[2], ids[5], ids[0], ids[4]]);
      expect(await claimAll()).toEqual([]);
    });

    it('keeps FIFO among many tasks of one priority', async () => {
      const batch = Array.from({ length: 50 }, () => task());
      await s.backend.add(batch);
      const claimed = [...(await claimAll(20)), ...(await claimAll(40))];
      expect(claimed.map((c) => c.task.id)).toEqual(batch.map((t) => t.id));
    });

    it('holds a delayed task until its time, then hands it out by priority', async () => {
      const now = Date.now();
      const later = task({ runAt: now + 300, priority: 0 });
      const ready = task({ priority: 90 });
      const [outcome] = await s.backend.add([later]);
      expect(outcome?.state).toBe('delayed');
      expect((await s.backend.get(s.queue, later.id))?.state).toBe('delayed');
      await s.backend.add([ready]);
      expect((await s.backend.counts(s.queue)).delayed).toBe(1);
      const first = await claimAll(10);
      expect(first.map((c) => c.task.id)).toEqual([ready.id]);
      await sleep(350);
      const second = await claimAll(10);
      expect(second.map((c) => c.task.id)).toEqual([later.id]);
      expect((await s.backend.counts(s.queue)).delayed).toBe(0);
    });

    it('treats runAt at or before createdAt as ready now', async () => {
      const now = Date.now();
      const t = task({ runAt: now - 5_000, createdAt: now });
      const [outcome] = await s.backend.add([t]);
      expect(outcome?.state).toBe('waiting');
      expect((await claimOne()).task.id).toBe(t.id);
    });
  });

  describe('claim', () => {
    it('hands out at most max tasks per call, and nothing when empty', async () => {
      await s.backend.add(Array.from({ length: 5 }, () => task()));
      expect(await claimAll(3)).toHaveLength(3);
      expect(await claimAll(10)).toHaveLength(2);
      expect(await claimAll(10)).toEqual([]);
    });

    it('hands out each task with what it was submitted with, and its last error and progress', async () => {
      const now = Date.now();
      // One call, one creation time, different options: each claimed record has its own.
      const a = task({ payload: '{"a":1}', maxRetries: 5, timeoutMs: 1_500, priority: 10 });
      const b = task({
        name: 'other',
        payload: '[2]',
        maxRetries: 0,
        backoff: { ...BACKOFF, type: 'fixed', delayMs: 250 },
        createdAt: now,
        runAt: now,
        failOnDependencyFailure: false,
        priority: 10,
      });
      const c = task({
        payload: '',
        maxRetries: 5,
        timeoutMs: 1_500,
        priority: 10,
        dependsOn: [],
      });
      await s.backend.add([a, b, c]);
      const claimed = await claimAll(10);
      expect(claimed.map((x) => x.task.id)).toEqual([a.id, b.id, c.id]);
      for (const [i, submitted] of [a, b, c].entries()) {
        const { state, attempts, workerId, startedAt, ...rest } = claimed[i]!.task;
        expect(rest).toEqual({ ...submitted, dependsOn: [...submitted.dependsOn] });
        expect({ state, attempts, workerId }).toEqual({
          state: 'active',
          attempts: 1,
          workerId: 'w1',
        });
        expect(startedAt).toBeGreaterThanOrEqual(now - 50);
      }
      // Progress and a retry: the next attempt sees both.
      expect(await s.backend.setProgress(s.queue, lease(claimed[0]!), '{"step":3}')).toBe(true);
      await s.backend.finish(s.queue, [retry(claimed[0]!, Date.now() - 1)]);
      const [again] = await claimAll(1);
      expect(again!.task).toMatchObject({
        id: a.id,
        attempts: 2,
        error: ERROR,
        progress: '{"step":3}',
        payload: a.payload,
        maxRetries: 5,
      });
    });

    it('marks a claimed task active with its worker, token and lease, its attempt counted once started', async () => {
      const t = task();
      await s.backend.add([t]);
      const before = Date.now();
      const claimed = await claimOne('worker-7', 5_000);
      const after = Date.now();
      // The number the attempt will have; it is not spent until its start is recorded.
      expect(claimed.task).toMatchObject({ id: t.id, state: 'active', attempts: 1 });
      expect(typeof claimed.token).toBe('string');
      expect(claimed.token.length).toBeGreaterThan(0);
      expect(claimed.leaseUntil).toBeGreaterThanOrEqual(before + 5_000 - 50);
      expect(claimed.leaseUntil).toBeLessThanOrEqual(after + 5_000 + 50);
      expect(await s.backend.get(s.queue, t.id)).toMatchObject({
        state: 'active',
        attempts: 0,
        workerId: 'worker-7',
      });
      expect(await s.backend.finish(s.queue, [], [lease(claimed)])).toEqual([]);
      const started = Date.now();
      const record = await s.backend.get(s.queue, t.id);
      expect(record).toMatchObject({ state: 'active', attempts: 1, workerId: 'worker-7' });
      expect(record!.startedAt).toBeGreaterThanOrEqual(before - 50);
      expect(record!.startedAt).toBeLessThanOrEqual(started + 50);
      // Recorded once: a second report changes nothing.
      await s.backend.finish(s.queue, [], [lease(claimed)]);
      expect((await s.backend.get(s.queue, t.id))?.attempts).toBe(1);
      const counts = await s.backend.counts(s.queue);
      expect(counts).toMatchObject({ waiting: 0, active: 1 });
    });

    it('counts the attempt of an outcome whose start was never reported', async () => {
      const t = task();
      await s.backend.add([t]);
      const claimed = await claimOne();
      const [result] = await s.backend.finish(s.queue, [complete(claimed, '"ok"')]);
      expect(result?.accepted).toBe(true);
      expect(await s.backend.get(s.queue, t.id)).toMatchObject({ state: 'completed', attempts: 1 });
    });

    it('never hands one task to two workers claiming at the same time', async () => {
      await s.backend.add(Array.from({ length: 40 }, () => task()));
      const claimers = [s.backend, s.second ?? s.backend, s.backend, s.second ?? s.backend];
      const results = await Promise.all(
        claimers.map((b, i) => b.claim(s.queue, `w${i}`, 15, 30_000)),
      );
      const ids = results.flat().map((c) => c.task.id);
      expect(ids).toHaveLength(40);
      expect(new Set(ids).size).toBe(40);
      const tokens = results.flat().map((c) => c.token);
      expect(new Set(tokens).size).toBe(40);
    });
  });
}
