import { setTimeout as sleep } from 'node:timers/promises';
import type { RateLimitDecision, RateLimitStore } from '../security/types.js';
import type { TestApi } from './test-api.js';

/** A store under test, with a second view of the same state when the store is shared. */
export interface RateLimitStoreUnderTest {
  store: RateLimitStore;
  /**
   * A second store on the same state, as another process of the deployment opens it (its own
   * connection, the same prefix). The concurrency and reset tests spread their calls over both;
   * without one (a store for one process) they use `store` twice.
   */
  second?: RateLimitStore;
  /**
   * How many keys the store holds now, expired ones left out (a SCAN of the prefix, the size of a
   * map after pruning). Without it, the idle-key test only checks that the key is fresh again.
   */
  keys?(): Promise<number>;
  /** Removes what the test left; runs after the suite's own calls. */
  cleanup(): unknown;
}

/** How a conformance run builds the store under test. */
export interface RateLimitStoreHarness {
  /** A fresh store, isolated from every other test: its own key prefix, table or map. */
  create(): RateLimitStoreUnderTest | Promise<RateLimitStoreUnderTest>;
}

const KEYS = ['a', 'a:b', 'a:', ':a', '{a}', 'a}', '{', 'a*', '%3A', 'ünïcödé ✓', 'with\nnewline'];

/**
 * The contract every {@link RateLimitStore} passes, whatever its algorithm: under any concurrency
 * never more admitted than `limit` per window (200 concurrent calls on one key admit exactly
 * `limit`); `remaining`, `resetMs` and `retryAfterMs` that a client can act on (a call fits again
 * once `retryAfterMs` has passed, the whole limit once `resetMs` has); costs above one, counted
 * only when they fit; `reset`; keys independent whatever characters they hold; idle keys
 * forgotten. Real time with short windows (a few seconds in all). The package's memory and Redis
 * stores (standalone and Cluster, both algorithms) run it.
 *
 * @param api - the runner's test functions (see {@link TestApi}).
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { describeRateLimitStore } from '@revcopy/enterprise/testing';
 *
 * describeRateLimitStore('postgres', vitest, {
 *   create() {
 *     const table = `rl_${crypto.randomUUID().slice(0, 8)}`;
 *     const store = new PostgresRateLimitStore({ url: process.env.DATABASE_URL, table });
 *     return { store, cleanup: () => store.close() };
 *   },
 * });
 * ```
 */
export function describeRateLimitStore(
  name: string,
  api: TestApi,
  harness: RateLimitStoreHarness,
): void {
  const { describe, it, expect, beforeEach, afterEach } = api;
  describe(`RateLimitStore conformance: ${name}`, () => {
    let store: RateLimitStore;
    let second: RateLimitStore;
    let keys: (() => Promise<number>) | undefined;
    let cleanup: () => unknown;
    beforeEach(async () => {
      const created = await harness.create();
      store = created.store;
      second = created.second ?? created.store;
      keys = created.keys?.bind(created);
      cleanup = () => created.cleanup();
    });
    afterEach(async () => {
      await cleanup();
    });

    const rule = (limit: number, windowMs: number, cost = 1) => ({ limit, windowMs, cost });

    it('admits exactly the limit of 200 concurrent calls on one key', async () => {
      const decisions = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (i % 2 === 0 ? store : second).consume('hot', rule(25, 60_000)),
        ),
      );
      expect(decisions.filter((d) => d.allowed)).toHaveLength(25);
      const remaining = decisions
        .filter((d) => d.allowed)
        .map((d) => d.remaining)
        .sort((a, b) => a - b);
      expect(remaining).toEqual(Array.from({ length: 25 }, (_, i) => i));
    });

    it('never admits more than the limit when concurrent calls carry costs', async () => {
      const costs = Array.from({ length: 120 }, (_, i) => 1 + (i % 3));
      const decisions = await Promise.all(
        costs.map((cost, i) =>
          (i % 2 === 0 ? store : second).consume('costly', rule(20, 60_000, cost)),
        ),
      );
      const admitted = decisions.reduce((sum, d, i) => sum + (d.allowed ? costs[i]! : 0), 0);
      expect(admitted).toBeLessThanOrEqual(20);
      expect(admitted).toBeGreaterThanOrEqual(18);
    });

    it('answers a first call with the limit less its cost, and nothing to wait for', async () => {
      const d = await store.consume('first', rule(10, 60_000));
      expect(d).toMatchObject({ allowed: true, limit: 10, remaining: 9, retryAfterMs: 0 });
      expect(d.resetMs).toBeGreaterThan(0);
      expect(d.resetMs).toBeLessThanOrEqual(60_000);
    });

    it('counts down, then refuses with a wait within the window and usage left as it was', async () => {
      const seen: RateLimitDecision[] = [];
      for (let i = 0; i < 6; i++) seen.push(await store.consume('countdown', rule(5, 60_000)));
      expect(seen.slice(0, 5).map((d) => [d.allowed, d.remaining])).toEqual([
        [true, 4],
        [true, 3],
        [true, 2],
        [true, 1],
        [true, 0],
      ]);
      const refused = seen[5]!;
      expect(refused).toMatchObject({ allowed: false, limit: 5, remaining: 0 });
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect(refused.resetMs).toBeGreaterThanOrEqual(refused.retryAfterMs);
      expect(refused.resetMs).toBeLessThanOrEqual(60_000);
      expect((await store.consume('countdown', rule(5, 60_000))).allowed).toBe(false);
    });

    it('lets a call through once retryAfterMs has passed', async () => {
      await store.consume('retry', rule(2, 600));
      await store.consume('retry', rule(2, 600));
      const refused = await store.consume('retry', rule(2, 600));
      expect(refused.allowed).toBe(false);
      await sleep(refused.retryAfterMs + 30);
      expect((await store.consume('retry', rule(2, 600))).allowed).toBe(true);
    });

    it('gives the whole limit back once resetMs has passed', async () => {
      let last: RateLimitDecision | undefined;
      for (let i = 0; i < 3; i++) last = await store.consume('refill', rule(3, 500));
      expect(last!.remaining).toBe(0);
      await sleep(last!.resetMs + 30);
      const whole = await store.consume('refill', rule(3, 500, 3));
      expect(whole).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('counts a cost above one, and refuses a cost that does not fit without counting it', async () => {
      expect(await store.consume('cost', rule(10, 60_000, 4))).toMatchObject({
        allowed: true,
        remaining: 6,
      });
      const refused = await store.consume('cost', rule(10, 60_000, 7));
      expect(refused).toMatchObject({ allowed: false, remaining: 6 });
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(await store.consume('cost', rule(10, 60_000, 6))).toMatchObject({
        allowed: true,
        remaining: 0,
      });
    });

    it('refuses a cost above the limit without counting it', async () => {
      const refused = await store.consume('huge', rule(3, 60_000, 4));
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(await store.consume('huge', rule(3, 60_000, 3))).toMatchObject({
        allowed: true,
        remaining: 0,
      });
    });

    it('forgets a key on reset, for every instance', async () => {
      for (let i = 0; i < 3; i++) await store.consume('reset', rule(3, 60_000));
      expect((await second.consume('reset', rule(3, 60_000))).allowed).toBe(false);
      await second.reset('reset');
      expect(await store.consume('reset', rule(3, 60_000))).toMatchObject({
        allowed: true,
        remaining: 2,
      });
      await store.reset('never-used');
    });

    it('keeps keys independent, whatever characters they hold', async () => {
      for (const key of KEYS) {
        expect((await store.consume(key, rule(2, 60_000))).remaining, key).toBe(1);
      }
      for (let i = 0; i < 2; i++) await store.consume('a', rule(2, 60_000));
      expect((await store.consume('a', rule(2, 60_000))).allowed).toBe(false);
      for (const key of KEYS.filter((k) => k !== 'a')) {
        expect((await store.consume(key, rule(2, 60_000))).remaining, key).toBe(0);
      }
    });

    it('forgets an idle key once its window has passed', async () => {
      for (const key of ['idle-1', 'idle-2', 'idle-3']) {
        await store.consume(key, rule(2, 300));
        await store.consume(key, rule(2, 300));
      }
      if (keys !== undefined) expect(await keys()).toBeGreaterThan(0);
      await sleep(450);
      if (keys !== undefined) expect(await keys()).toBe(0);
      expect(await store.consume('idle-1', rule(2, 300))).toMatchObject({
        allowed: true,
        remaining: 1,
      });
    });
  });
}
