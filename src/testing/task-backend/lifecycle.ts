import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskBackendEvent } from '../../tasks/types.js';
import { eventually } from '../eventually.js';
import type { BackendSuite } from './context.js';

/** Retention, events, waiting for work and closing. */
export function lifecycleTests(s: BackendSuite): void {
  const { describe, it, expect } = s.api;
  const { use, task, claimAll, claimOne, lease, complete, dead, retry, run, subscribed } = s;

  describe('retention', () => {
    it('keeps at most the configured number of completed and dead tasks, oldest removed first', async () => {
      await use({
        retention: {
          completed: { count: 2, ageMs: 3_600_000 },
          dead: { count: 1, ageMs: 3_600_000 },
        },
      });
      const done = Array.from({ length: 4 }, () => task());
      const failed = Array.from({ length: 3 }, () => task({ priority: 99 }));
      await s.backend.add([...done, ...failed]);
      for (const t of done) await run(t.id, 'completed');
      for (const t of failed) await run(t.id, 'dead');
      const kept = await Promise.all(done.map((t) => s.backend.get(s.queue, t.id)));
      expect(kept.map((r) => r?.state)).toEqual([undefined, undefined, 'completed', 'completed']);
      const keptDead = await Promise.all(failed.map((t) => s.backend.get(s.queue, t.id)));
      expect(keptDead.map((r) => r?.state)).toEqual([undefined, undefined, 'dead']);
      expect(await s.backend.counts(s.queue)).toMatchObject({ completed: 2, dead: 1 });
      expect((await s.backend.listDead(s.queue, 0, 10)).map((r) => r.id)).toEqual([failed[2]!.id]);
    });

    it('removes finished tasks older than the configured age', async () => {
      await use({
        retention: {
          completed: { count: 1_000, ageMs: 150 },
          dead: { count: 1_000, ageMs: 150 },
        },
      });
      const [a, b, c, d] = [task(), task(), task(), task()];
      await s.backend.add([a, b, c, d]);
      await run(a.id, 'completed');
      await run(b.id, 'dead');
      await sleep(250);
      await run(c.id, 'completed');
      await run(d.id, 'dead');
      expect(await s.backend.get(s.queue, a.id)).toBeUndefined();
      expect(await s.backend.get(s.queue, b.id)).toBeUndefined();
      expect((await s.backend.get(s.queue, c.id))?.state).toBe('completed');
      expect((await s.backend.get(s.queue, d.id))?.state).toBe('dead');
      expect(await s.backend.counts(s.queue)).toMatchObject({ completed: 1, dead: 1 });
    });

    it('keeps tasks dead at submission within the dead bound too', async () => {
      await use({
        retention: {
          completed: { count: 10, ageMs: 3_600_000 },
          dead: { count: 2, ageMs: 3_600_000 },
        },
      });
      const failed = task();
      await s.backend.add([failed]);
      expect(await s.backend.cancel(s.queue, failed.id)).toBe(true);
      // Each of these dies on arrival: its dependency was cancelled.
      for (let i = 0; i < 6; i++) {
        const [outcome] = await s.backend.add([task({ dependsOn: [failed.id] })]);
        expect(outcome?.state).toBe('dead');
      }
      expect((await s.backend.counts(s.queue)).dead).toBeLessThanOrEqual(2);
      expect((await s.backend.listDead(s.queue, 0, 100)).length).toBeLessThanOrEqual(2);
    });

    it('keeps an id taken for uniqueForMs even once its task was removed', async () => {
      await use({
        retention: {
          completed: { count: 1, ageMs: 3_600_000 },
          dead: { count: 1, ageMs: 3_600_000 },
        },
      });
      const once = task({ id: `once-${randomUUID()}`, uniqueForMs: 60_000 });
      const plain = task({ id: `plain-${randomUUID()}` });
      await s.backend.add([once, plain]);
      await run(once.id, 'completed');
      await run(plain.id, 'completed');
      // Both pushed out by retention.
      const filler = task();
      await s.backend.add([filler]);
      await run(filler.id, 'completed');
      expect(await s.backend.get(s.queue, once.id)).toBeUndefined();
      expect(await s.backend.get(s.queue, plain.id)).toBeUndefined();
      const [again] = await s.backend.add([{ ...once, createdAt: Date.now() }]);
      expect(again?.created).toBe(false);
      expect(await s.backend.get(s.queue, once.id)).toBeUndefined();
      const [plainAgain] = await s.backend.add([{ ...plain, createdAt: Date.now() }]);
      expect(plainAgain?.created).toBe(true);
    });

    it('frees an id kept by uniqueForMs once that time has passed', async () => {
      const once = task({ uniqueForMs: 100 });
      await s.backend.add([once]);
      await s.backend.cancel(s.queue, once.id);
      await sleep(150);
      await s.backend.purgeDead(s.queue);
      // Cancelled tasks stay stored until retention: the id is still the task's.
      const [again] = await s.backend.add([{ ...once }]);
      expect(again).toMatchObject({ created: false, state: 'cancelled' });
    });
  });

  describe('subscribe', () => {
    it('tells subscribers, in this process and others, what happened to tasks', async () => {
      const heard: TaskBackendEvent[] = [];
      const heardElsewhere: TaskBackendEvent[] = [];
      const off = await subscribed(s.backend, (event) => heard.push(event));
      const offElsewhere =
        s.second === undefined
          ? undefined
          : await subscribed(s.second, (event) => heardElsewhere.push(event));
      const [ok, again, bad, cancelled] = [
        task({ name: 'a' }),
        task({ name: 'b' }),
        task({ name: 'c' }),
        task({ name: 'd', runAt: Date.now() + 60_000 }),
      ];
      await s.backend.add([ok, again, bad, cancelled]);
      const [cOk, cAgain, cBad] = await claimAll(3);
      await s.backend.setProgress(s.queue, lease(cOk!), '0.5');
      await s.backend.finish(s.queue, [
        complete(cOk!),
        retry(cAgain!, Date.now() + 60_000),
        dead(cBad!),
      ]);
      await s.backend.cancel(s.queue, cancelled.id);
      const expected: TaskBackendEvent[] = [
        { type: 'progress', queue: s.queue, id: ok.id, name: 'a' },
        { type: 'completed', queue: s.queue, id: ok.id, name: 'a' },
        { type: 'retry', queue: s.queue, id: again.id, name: 'b' },
        { type: 'dead', queue: s.queue, id: bad.id, name: 'c' },
        { type: 'cancelled', queue: s.queue, id: cancelled.id, name: 'd' },
      ];
      const key = (e: TaskBackendEvent) => `${e.type}:${e.id}`;
      // Pub/sub delivery on a loaded machine (a Cluster relays between nodes) may take seconds.
      await eventually(() => heard.length >= expected.length, 'events', 10_000);
      expect(heard.map(key).sort()).toEqual(expected.map(key).sort());
      for (const event of expected) {
        expect(heard).toContainEqual(expect.objectContaining(event));
      }
      if (s.second !== undefined) {
        await eventually(() => heardElsewhere.length >= expected.length, 'events elsewhere');
        expect(heardElsewhere.map(key).sort()).toEqual(expected.map(key).sort());
      }
      off();
      offElsewhere?.();
      const after = task();
      await s.backend.add([after]);
      await s.backend.finish(s.queue, [complete(await claimOne())]);
      await sleep(150);
      expect(heard).toHaveLength(expected.length);
      expect(heardElsewhere).toHaveLength(s.second === undefined ? 0 : expected.length);
    });

    it('announces dependents killed by a dead dependency', async () => {
      const heard: TaskBackendEvent[] = [];
      const off = await subscribed(s.backend, (event) => heard.push(event));
      const a = task();
      const b = task({ dependsOn: [a.id], name: 'child' });
      await s.backend.add([a, b]);
      await run(a.id, 'dead');
      await eventually(
        () => heard.some((e) => e.id === b.id && e.type === 'dead'),
        'the dependent to be announced dead',
      );
      expect(heard).toContainEqual({ type: 'dead', queue: s.queue, id: b.id, name: 'child' });
      off();
    });
  });

  describe('waitForWork', () => {
    it('wakes up when a task is added', async () => {
      const controller = new AbortController();
      const started = Date.now();
      const waiting = s.backend.waitForWork(s.queue, 5_000, controller.signal);
      await sleep(50);
      await (s.second ?? s.backend).add([task()]);
      await waiting;
      expect(Date.now() - started).toBeLessThan(2_500);
    });

    it('wakes up when a delayed task becomes due', async () => {
      const controller = new AbortController();
      await s.backend.add([task({ runAt: Date.now() + 200 })]);
      const started = Date.now();
      await s.backend.waitForWork(s.queue, 5_000, controller.signal);
      expect(Date.now() - started).toBeLessThan(2_500);
    });

    it('returns after the timeout when nothing happens', async () => {
      const controller = new AbortController();
      const started = Date.now();
      await s.backend.waitForWork(s.queue, 150, controller.signal);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(100);
      expect(elapsed).toBeLessThan(2_000);
    });

    it('returns at once when the signal aborts', async () => {
      const controller = new AbortController();
      const started = Date.now();
      const waiting = s.backend.waitForWork(s.queue, 10_000, controller.signal);
      await sleep(30);
      controller.abort();
      await waiting;
      expect(Date.now() - started).toBeLessThan(1_000);
      const already = new AbortController();
      already.abort();
      const t0 = Date.now();
      await s.backend.waitForWork(s.queue, 10_000, already.signal);
      expect(Date.now() - t0).toBeLessThan(500);
    });
  });

  describe('close', () => {
    it('can be called more than once', async () => {
      await s.backend.close();
      await expect(s.backend.close()).resolves.toBeUndefined();
    });
  });
}
