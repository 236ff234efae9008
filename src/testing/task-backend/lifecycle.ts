import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskBackend, TaskBackendEvent } from '../../tasks/types.js';
import { eventually } from '../eventually.js';
import type { BackendSuite, TaskBackendHarnessOptions } from './context.js';

/** Retention, events, waiting for work and closing. */
export function lifecycleTests(s: BackendSuite): void {
  const { describe, it, expect } = s.api;
  let backend!: TaskBackend;
  let second: TaskBackend | undefined;
  let queue!: string;
  // Each test gets a fresh harness (see BackendSuite.use): read it before the test runs.
  const sync = () => {
    ({ backend, second, queue } = s.state);
  };
  s.api.beforeEach(sync);
  const use = async (options?: TaskBackendHarnessOptions) => {
    await s.use(options);
    sync();
  };
  const { task, claimAll, claimOne, lease, complete, dead, retry, run } = s;

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
      await backend.add([...done, ...failed]);
      for (const t of done) await run(t.id, 'completed');
      for (const t of failed) await run(t.id, 'dead');
      const kept = await Promise.all(done.map((t) => backend.get(queue, t.id)));
      expect(kept.map((r) => r?.state)).toEqual([undefined, undefined, 'completed', 'completed']);
      const keptDead = await Promise.all(failed.map((t) => backend.get(queue, t.id)));
      expect(keptDead.map((r) => r?.state)).toEqual([undefined, undefined, 'dead']);
      expect(await backend.counts(queue)).toMatchObject({ completed: 2, dead: 1 });
      expect((await backend.listDead(queue, 0, 10)).map((r) => r.id)).toEqual([failed[2]!.id]);
    });

    it('removes finished tasks older than the configured age', async () => {
      await use({
        retention: {
          completed: { count: 1_000, ageMs: 150 },
          dead: { count: 1_000, ageMs: 150 },
        },
      });
      const [a, b, c, d] = [task(), task(), task(), task()];
      await backend.add([a, b, c, d]);
      await run(a.id, 'completed');
      await run(b.id, 'dead');
      await sleep(250);
      await run(c.id, 'completed');
      await run(d.id, 'dead');
      expect(await backend.get(queue, a.id)).toBeUndefined();
      expect(await backend.get(queue, b.id)).toBeUndefined();
      expect((await backend.get(queue, c.id))?.state).toBe('completed');
      expect((await backend.get(queue, d.id))?.state).toBe('dead');
      expect(await backend.counts(queue)).toMatchObject({ completed: 1, dead: 1 });
    });

    it('keeps tasks dead at submission within the dead bound too', async () => {
      await use({
        retention: {
          completed: { count: 10, ageMs: 3_600_000 },
          dead: { count: 2, ageMs: 3_600_000 },
        },
      });
      const failed = task();
      await backend.add([failed]);
      expect(await backend.cancel(queue, failed.id)).toBe(true);
      // Each of these dies on arrival: its dependency was cancelled.
      for (let i = 0; i < 6; i++) {
        const [outcome] = await backend.add([task({ dependsOn: [failed.id] })]);
        expect(outcome?.state).toBe('dead');
      }
      expect((await backend.counts(queue)).dead).toBeLessThanOrEqual(2);
      expect((await backend.listDead(queue, 0, 100)).length).toBeLessThanOrEqual(2);
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
      await backend.add([once, plain]);
      await run(once.id, 'completed');
      await run(plain.id, 'completed');
      // Both pushed out by retention.
      const filler = task();
      await backend.add([filler]);
      await run(filler.id, 'completed');
      expect(await backend.get(queue, once.id)).toBeUndefined();
      expect(await backend.get(queue, plain.id)).toBeUndefined();
      const [again] = await backend.add([{ ...once, createdAt: Date.now() }]);
      expect(again?.created).toBe(false);
      expect(await backend.get(queue, once.id)).toBeUndefined();
      const [plainAgain] = await backend.add([{ ...plain, createdAt: Date.now() }]);
      expect(plainAgain?.created).toBe(true);
    });

    it('frees an id kept by uniqueForMs once that time has passed', async () => {
      const once = task({ uniqueForMs: 100 });
      await backend.add([once]);
      await backend.cancel(queue, once.id);
      await sleep(150);
      await backend.purgeDead(queue);
      // Cancelled tasks stay stored until retention: the id is still the task's.
      const [again] = await backend.add([{ ...once }]);
      expect(again).toMatchObject({ created: false, state: 'cancelled' });
    });
  });

  describe('subscribe', () => {
    it('tells subscribers, in this process and others, what happened to tasks', async () => {
      const heard: TaskBackendEvent[] = [];
      const heardElsewhere: TaskBackendEvent[] = [];
      const off = backend.subscribe((event) => heard.push(event));
      const offElsewhere = second?.subscribe((event) => heardElsewhere.push(event));
      // A remote subscription may take a moment to be in place.
      await sleep(100);
      const [ok, again, bad, cancelled] = [
        task({ name: 'a' }),
        task({ name: 'b' }),
        task({ name: 'c' }),
        task({ name: 'd', runAt: Date.now() + 60_000 }),
      ];
      await backend.add([ok, again, bad, cancelled]);
      const [cOk, cAgain, cBad] = await claimAll(3);
      await backend.setProgress(queue, lease(cOk!), '0.5');
      await backend.finish(queue, [
        complete(cOk!),
        retry(cAgain!, Date.now() + 60_000),
        dead(cBad!),
      ]);
      await backend.cancel(queue, cancelled.id);
      const expected: TaskBackendEvent[] = [
        { type: 'progress', queue, id: ok.id, name: 'a' },
        { type: 'completed', queue, id: ok.id, name: 'a' },
        { type: 'retry', queue, id: again.id, name: 'b' },
        { type: 'dead', queue, id: bad.id, name: 'c' },
        { type: 'cancelled', queue, id: cancelled.id, name: 'd' },
      ];
      const key = (e: TaskBackendEvent) => `${e.type}:${e.id}`;
      await eventually(() => heard.length >= expected.length, 'events');
      expect(heard.map(key).sort()).toEqual(expected.map(key).sort());
      for (const event of expected) {
        expect(heard).toContainEqual(expect.objectContaining(event));
      }
      if (second !== undefined) {
        await eventually(() => heardElsewhere.length >= expected.length, 'events elsewhere');
        expect(heardElsewhere.map(key).sort()).toEqual(expected.map(key).sort());
      }
      off();
      offElsewhere?.();
      const after = task();
      await backend.add([after]);
      await backend.finish(queue, [complete(await claimOne())]);
      await sleep(150);
      expect(heard).toHaveLength(expected.length);
      expect(heardElsewhere).toHaveLength(second === undefined ? 0 : expected.length);
    });

    it('announces dependents killed by a dead dependency', async () => {
      const heard: TaskBackendEvent[] = [];
      const off = backend.subscribe((event) => heard.push(event));
      await sleep(100);
      const a = task();
      const b = task({ dependsOn: [a.id], name: 'child' });
      await backend.add([a, b]);
      await run(a.id, 'dead');
      await eventually(
        () => heard.some((e) => e.id === b.id && e.type === 'dead'),
        'the dependent to be announced dead',
      );
      expect(heard).toContainEqual({ type: 'dead', queue, id: b.id, name: 'child' });
      off();
    });
  });

  describe('waitForWork', () => {
    it('wakes up when a task is added', async () => {
      const controller = new AbortController();
      const started = Date.now();
      const waiting = backend.waitForWork(queue, 5_000, controller.signal);
      await sleep(50);
      await (second ?? backend).add([task()]);
      await waiting;
      expect(Date.now() - started).toBeLessThan(2_500);
    });

    it('wakes up when a delayed task becomes due', async () => {
      const controller = new AbortController();
      await backend.add([task({ runAt: Date.now() + 200 })]);
      const started = Date.now();
      await backend.waitForWork(queue, 5_000, controller.signal);
      expect(Date.now() - started).toBeLessThan(2_500);
    });

    it('returns after the timeout when nothing happens', async () => {
      const controller = new AbortController();
      const started = Date.now();
      await backend.waitForWork(queue, 150, controller.signal);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(100);
      expect(elapsed).toBeLessThan(2_000);
    });

    it('returns at once when the signal aborts', async () => {
      const controller = new AbortController();
      const started = Date.now();
      const waiting = backend.waitForWork(queue, 10_000, controller.signal);
      await sleep(30);
      controller.abort();
      await waiting;
      expect(Date.now() - started).toBeLessThan(1_000);
      const already = new AbortController();
      already.abort();
      const t0 = Date.now();
      await backend.waitForWork(queue, 10_000, already.signal);
      expect(Date.now() - t0).toBeLessThan(500);
    });
  });

  describe('close', () => {
    it('can be called more than once', async () => {
      await backend.close();
      await expect(backend.close()).resolves.toBeUndefined();
    });
  });
}
