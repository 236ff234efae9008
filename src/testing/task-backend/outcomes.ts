import { setTimeout as sleep } from 'node:timers/promises';
import { UNSTARTED_DELIVERIES } from '../../tasks/errors.js';
import { type BackendSuite, ERROR } from './context.js';

/** Leases (renewal, expiry, release, what an attempt costs) and the outcomes of attempts. */
export function outcomesTests(s: BackendSuite): void {
  const { describe, it, expect } = s.api;
  const { task, claimAll, claimOne, lease, complete, dead, retry } = s;

  describe('leases', () => {
    it('recovers an expired lease and fences the late worker out', async () => {
      const t = task();
      await s.backend.add([t]);
      const stale = await claimOne('w1', 150);
      await s.backend.finish(s.queue, [], [lease(stale)]);
      await sleep(220);
      expect(await s.backend.recoverExpired(s.queue, Date.now())).toBe(1);
      expect((await s.backend.get(s.queue, t.id))?.state).toBe('waiting');
      const fresh = await claimOne('w2', 30_000);
      expect(fresh.task.id).toBe(t.id);
      expect(fresh.task.attempts).toBe(2);
      expect(fresh.token).not.toBe(stale.token);

      expect(await s.backend.setProgress(s.queue, lease(stale), '50')).toBe(false);
      expect(await s.backend.renewLeases(s.queue, [lease(stale)], 30_000)).toEqual([t.id]);
      const [late] = await s.backend.finish(s.queue, [complete(stale, '"late"')]);
      expect(late).toMatchObject({ id: t.id, accepted: false });
      expect((await s.backend.get(s.queue, t.id))?.state).toBe('active');
      expect((await s.backend.get(s.queue, t.id))?.workerId).toBe('w2');

      const [ok] = await s.backend.finish(s.queue, [complete(fresh, '"fresh"')]);
      expect(ok?.accepted).toBe(true);
      expect((await s.backend.get(s.queue, t.id))?.result).toBe('"fresh"');
    });

    it('gives back an expired lease that never started without spending its attempt', async () => {
      const t = task({ maxRetries: 0 });
      await s.backend.add([t]);
      await claimOne('w1', 100);
      await sleep(180);
      expect(await s.backend.recoverExpired(s.queue, Date.now())).toBe(1);
      expect(await s.backend.get(s.queue, t.id)).toMatchObject({ state: 'waiting', attempts: 0 });
      const again = await claimOne('w2', 30_000);
      expect(again.task).toMatchObject({ id: t.id, attempts: 1 });
    });

    it('sends a task lost again and again before any start to the dead letter queue', async () => {
      const t = task();
      await s.backend.add([t]);
      for (let loss = 1; loss <= UNSTARTED_DELIVERIES.limit; loss++) {
        const claimed = await claimOne('w1', 30);
        expect(claimed.task.attempts).toBe(1);
        await sleep(60);
        await s.backend.recoverExpired(s.queue, Date.now());
      }
      const record = await s.backend.get(s.queue, t.id);
      expect(record).toMatchObject({ state: 'dead', attempts: 0 });
      expect(record?.error).toMatchObject({
        name: UNSTARTED_DELIVERIES.name,
        code: UNSTARTED_DELIVERIES.code,
      });
      expect((await s.backend.counts(s.queue)).dead).toBe(1);
      expect(await claimAll()).toEqual([]);
    });

    it('gives a started attempt back on release without counting it', async () => {
      const t = task();
      await s.backend.add([t]);
      const claimed = await claimOne();
      await s.backend.finish(s.queue, [], [lease(claimed)]);
      expect((await s.backend.get(s.queue, t.id))?.attempts).toBe(1);
      await s.backend.release(s.queue, [lease(claimed)]);
      expect(await s.backend.get(s.queue, t.id)).toMatchObject({ state: 'waiting', attempts: 0 });
      expect((await claimOne()).task.attempts).toBe(1);
    });

    it('leaves leases that have not expired alone', async () => {
      await s.backend.add([task()]);
      await claimOne('w1', 30_000);
      expect(await s.backend.recoverExpired(s.queue, Date.now())).toBe(0);
      expect(await claimAll()).toEqual([]);
    });

    it('renews held leases so they outlive their first term', async () => {
      const t = task();
      await s.backend.add([t]);
      const claimed = await claimOne('w1', 200);
      await sleep(120);
      expect(await s.backend.renewLeases(s.queue, [lease(claimed)], 1_000)).toEqual([]);
      await sleep(200);
      expect(await s.backend.recoverExpired(s.queue, Date.now())).toBe(0);
      expect((await s.backend.get(s.queue, t.id))?.state).toBe('active');
      const [result] = await s.backend.finish(s.queue, [complete(claimed)]);
      expect(result?.accepted).toBe(true);
    });

    it('reports unknown, finished and foreign leases as lost on renewal', async () => {
      const [a, b, c] = [task(), task(), task()];
      await s.backend.add([a, b, c]);
      const [ca, cb, cc] = await claimAll(3);
      await s.backend.finish(s.queue, [complete(ca!)]);
      const lost = await s.backend.renewLeases(
        s.queue,
        [
          lease(ca!),
          { id: cb!.task.id, token: 'not-the-token' },
          { id: 'unknown', token: 'x' },
          lease(cc!),
        ],
        30_000,
      );
      expect([...lost].sort()).toEqual([a.id, b.id, 'unknown'].sort());
      // A wrong token neither renews nor takes the task away from its holder.
      expect((await s.backend.get(s.queue, b.id))?.state).toBe('active');
      expect((await s.backend.finish(s.queue, [complete(cb!)]))[0]?.accepted).toBe(true);
      expect((await s.backend.finish(s.queue, [complete(cc!)]))[0]?.accepted).toBe(true);
    });

    it('gives released tasks back at once without counting the attempt', async () => {
      const [a, b] = [task(), task()];
      await s.backend.add([a, b]);
      const claimed = await claimAll(2);
      await s.backend.release(s.queue, claimed.map(lease));
      const ra = await s.backend.get(s.queue, a.id);
      expect(ra).toMatchObject({ state: 'waiting', attempts: 0 });
      const again = await claimAll(2);
      expect(again.map((c) => c.task.id)).toEqual([a.id, b.id]);
      expect(again.map((c) => c.task.attempts)).toEqual([1, 1]);
    });

    it('ignores a release under a lost lease', async () => {
      await s.backend.add([task()]);
      const stale = await claimOne('w1', 100);
      await sleep(160);
      await s.backend.recoverExpired(s.queue, Date.now());
      const fresh = await claimOne('w2');
      await s.backend.release(s.queue, [lease(stale)]);
      expect((await s.backend.get(s.queue, fresh.task.id))?.state).toBe('active');
      expect((await s.backend.get(s.queue, fresh.task.id))?.workerId).toBe('w2');
    });

    it('stores progress under the held lease', async () => {
      const t = task();
      await s.backend.add([t]);
      const claimed = await claimOne();
      expect(await s.backend.setProgress(s.queue, lease(claimed), '{"done":3,"of":10}')).toBe(true);
      expect((await s.backend.get(s.queue, t.id))?.progress).toBe('{"done":3,"of":10}');
      expect(await s.backend.setProgress(s.queue, { id: t.id, token: 'nope' }, '1')).toBe(false);
      expect((await s.backend.get(s.queue, t.id))?.progress).toBe('{"done":3,"of":10}');
    });
  });

  describe('finish', () => {
    it('records a completion with its result', async () => {
      const t = task();
      await s.backend.add([t]);
      const claimed = await claimOne();
      const finishedAt = Date.now();
      const [result] = await s.backend.finish(s.queue, [
        { kind: 'completed', id: t.id, token: claimed.token, result: '{"sum":3}', finishedAt },
      ]);
      expect(result).toMatchObject({ id: t.id, accepted: true });
      const record = await s.backend.get(s.queue, t.id);
      expect(record).toMatchObject({
        state: 'completed',
        attempts: 1,
        result: '{"sum":3}',
        finishedAt,
      });
      const counts = await s.backend.counts(s.queue);
      expect(counts).toMatchObject({ active: 0, completed: 1, waiting: 0 });
    });

    it('records a completion without a result', async () => {
      const t = task();
      await s.backend.add([t]);
      await s.backend.finish(s.queue, [complete(await claimOne(), undefined)]);
      const record = await s.backend.get(s.queue, t.id);
      expect(record?.state).toBe('completed');
      expect(record?.result).toBeUndefined();
    });

    it('accepts an outcome once: a second report of the same attempt is ignored', async () => {
      const t = task();
      await s.backend.add([t]);
      const claimed = await claimOne();
      expect((await s.backend.finish(s.queue, [complete(claimed, '1')]))[0]?.accepted).toBe(true);
      expect((await s.backend.finish(s.queue, [dead(claimed)]))[0]?.accepted).toBe(false);
      expect((await s.backend.get(s.queue, t.id))?.state).toBe('completed');
    });

    it('ignores an outcome for an unknown task', async () => {
      const [result] = await s.backend.finish(s.queue, [
        { kind: 'completed', id: 'ghost', token: 'x', result: undefined, finishedAt: Date.now() },
      ]);
      expect(result).toMatchObject({ id: 'ghost', accepted: false });
    });

    it('delays a retry until its time, keeping the error, then counts the next attempt', async () => {
      const t = task();
      await s.backend.add([t]);
      const claimed = await claimOne();
      await s.backend.finish(s.queue, [retry(claimed, Date.now() + 250)]);
      const record = await s.backend.get(s.queue, t.id);
      expect(record).toMatchObject({ state: 'delayed', attempts: 1, error: ERROR });
      expect((await s.backend.counts(s.queue)).delayed).toBe(1);
      expect(await claimAll()).toEqual([]);
      await sleep(300);
      const next = await claimOne();
      expect(next.task).toMatchObject({ id: t.id, attempts: 2, state: 'active' });
    });

    it('makes a retry due now ready at once', async () => {
      const t = task();
      await s.backend.add([t]);
      await s.backend.finish(s.queue, [retry(await claimOne(), Date.now() - 1)]);
      expect((await claimOne()).task.id).toBe(t.id);
    });

    it('moves a dead task to the dead letter queue with its error', async () => {
      const t = task();
      await s.backend.add([t]);
      await s.backend.finish(s.queue, [dead(await claimOne())]);
      const record = await s.backend.get(s.queue, t.id);
      expect(record).toMatchObject({
        state: 'dead',
        attempts: 1,
        error: ERROR,
        payload: t.payload,
      });
      expect(record!.finishedAt).toBeGreaterThan(0);
      expect((await s.backend.counts(s.queue)).dead).toBe(1);
      expect((await s.backend.listDead(s.queue, 0, 10)).map((r) => r.id)).toEqual([t.id]);
    });

    it('records many outcomes of one queue in one call, in order', async () => {
      const batch = Array.from({ length: 6 }, () => task());
      await s.backend.add(batch);
      const claimed = await claimAll(6);
      const outcomes = claimed.map((c, i) =>
        i % 3 === 0 ? complete(c, `${i}`) : i % 3 === 1 ? retry(c, Date.now() + 60_000) : dead(c),
      );
      const results = await s.backend.finish(s.queue, outcomes);
      expect(results.map((r) => r.id)).toEqual(claimed.map((c) => c.task.id));
      expect(results.every((r) => r.accepted)).toBe(true);
      const states = await Promise.all(
        batch.map(async (t) => (await s.backend.get(s.queue, t.id))?.state),
      );
      expect(states).toEqual(['completed', 'delayed', 'dead', 'completed', 'delayed', 'dead']);
      expect(await s.backend.counts(s.queue)).toMatchObject({
        completed: 2,
        delayed: 2,
        dead: 2,
        active: 0,
      });
    });
  });
}
