import { setTimeout as sleep } from 'node:timers/promises';
import { BanList } from '../security/clients/ban-list.js';
import { type BanChange, isWatched, type WatchedBanStore } from '../security/clients/ban-store.js';
import type { Ban, BanStore } from '../security/types.js';
import { eventually } from './eventually.js';
import type { TestApi } from './test-api.js';

/** A store under test, with a second view of the same bans when the store is shared. */
export interface BanStoreUnderTest {
  /** A store reading the system clock (the suite's bans end in real time). */
  store: BanStore;
  /**
   * A second store on the same bans, as another process of the deployment opens it (its own
   * connection, the same prefix). The tests about sharing go through it; without one (a store for
   * one process) they use `store` twice.
   */
  second?: BanStore;
  /** Removes what the test left (its keys); runs after the suite's own calls, `close()` included. */
  cleanup(): unknown;
}

/** How a conformance run builds the store under test. */
export interface BanStoreHarness {
  /** A fresh store, isolated from every other one it builds: its own key prefix, table or map. */
  create(): BanStoreUnderTest | Promise<BanStoreUnderTest>;
  /** The class calls made after `close()` reject with. @defaultValue Error */
  closedErrorType?: abstract new (
    ...args: any[]
  ) => Error;
}

/** Addresses, IPv6 prefixes, CIDR ranges and client keys, as `Clients` bans them. */
const CLIENTS = [
  '203.0.113.7',
  '203.0.113.0/24',
  '10.0.0.0/8',
  '2001:db8::1',
  '2001:db8:1:2::/64',
  '2001:db8::/32',
  '::1',
  '::ffff:192.0.2.1',
  'fe80::1%eth0',
  'key:user:42',
  '{tag}',
  'a*',
  'ünïcödé ✓',
];

/**
 * A ban of `client` in force for an hour from now, from the logins signal, with a reason holding
 * markup and non-ASCII text; for your own store tests.
 *
 * @example
 * ```ts
 * await store.put(sampleBan('203.0.113.7', { until: Date.now() + 60_000 }));
 * ```
 */
export function sampleBan(client: string, overrides: Partial<Ban> = {}): Ban {
  const now = Date.now();
  return {
    client,
    until: now + 3_600_000,
    reason: 'credential stuffing — Zürich ✓ <b>"',
    source: 'logins',
    createdAt: now,
    ...overrides,
  };
}

const byClient = (bans: readonly Ban[]) =>
  [...bans].sort((a, b) => (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
const clients = async (store: BanStore) => byClient(await store.list()).map((b) => b.client);

/** The error `call` rejects (or throws) with; fails when it resolves, or is still pending at 2 s. */
function rejection(call: () => Promise<unknown>, what: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} after close() still pending after 2 s`)),
      2_000,
    );
    Promise.resolve()
      .then(call)
      .then(
        () => reject(new Error(`${what} after close() resolved`)),
        (error: unknown) => resolve(error),
      )
      .finally(() => clearTimeout(timer));
  });
}

/**
 * The contract every `BanStore` passes, so the ban lists of a deployment agree on who is banned: a
 * ban put is listed with every field as given, on every instance, until its `until` has passed
 * (a ban already ended is never listed); putting a client again replaces its ban, longer or
 * shorter; `delete` answers whether a ban in force was removed; many bans, concurrent puts, and
 * clients written as addresses, IPv6 prefixes, CIDR ranges or keys; stores of different prefixes
 * kept apart; copies handed out; an idempotent `close`, after which calls reject. A store with
 * `watch` and `version` ({@link WatchedBanStore}) reports each change to the watchers of every
 * instance and changes its version with the bans. Two `BanList`s, one on each instance, see each
 * other's bans and unbans within a second. Real time with short durations (a few seconds in all).
 * The package's memory and Redis stores (standalone and Cluster) run it.
 *
 * @param api - the runner's test functions (see {@link TestApi}).
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { describeBanStore } from '@revcopy/enterprise/testing';
 *
 * describeBanStore('postgres', vitest, {
 *   create() {
 *     const table = `bans_${crypto.randomUUID().slice(0, 8)}`;
 *     const store = new PostgresBanStore({ url: process.env.DATABASE_URL, table });
 *     const second = new PostgresBanStore({ url: process.env.DATABASE_URL, table });
 *     return {
 *       store,
 *       second,
 *       cleanup: async () => {
 *         await Promise.all([store.close(), second.close()]);
 *         await dropTable(table);
 *       },
 *     };
 *   },
 * });
 * ```
 */
export function describeBanStore(name: string, api: TestApi, harness: BanStoreHarness): void {
  const { describe, it, expect, beforeEach, afterEach } = api;
  const closedErrorType = harness.closedErrorType ?? Error;
  describe(`BanStore conformance: ${name}`, () => {
    let store: BanStore;
    let second: BanStore;
    let cleanups: (() => unknown)[] = [];
    beforeEach(async () => {
      const created = await harness.create();
      store = created.store;
      second = created.second ?? created.store;
      cleanups = [() => created.cleanup()];
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('lists a ban it was given, every field as given, on every instance', async () => {
      expect(await store.list()).toEqual([]);
      const given = sampleBan('203.0.113.7');
      await store.put(given);
      expect(await store.list()).toEqual([given]);
      expect(await second.list()).toEqual([given]);
      const other = sampleBan('198.51.100.1', { reason: '', source: 'manual' });
      await second.put(other);
      expect(byClient(await store.list())).toEqual([other, given]);
    });

    it('leaves out a ban once its until has passed, on every instance', async () => {
      const short = sampleBan('203.0.113.7', { until: Date.now() + 600 });
      const long = sampleBan('203.0.113.8');
      await store.put(short);
      await second.put(long);
      expect(byClient(await second.list())).toEqual([short, long]);
      await sleep(750);
      // An ended ban is no ban: there is nothing to delete, whether or not it was read since.
      expect(await store.delete('203.0.113.7')).toBe(false);
      expect(await store.list()).toEqual([long]);
      expect(await second.list()).toEqual([long]);
    }, 10_000);

    it('never lists a ban whose until has already passed, and keeps the others', async () => {
      const kept = sampleBan('203.0.113.8');
      await store.put(kept);
      await store.put(sampleBan('203.0.113.7', { until: Date.now() - 3_600_000 }));
      await second.put(sampleBan('203.0.113.9', { until: Date.now() - 1 }));
      expect(await second.delete('203.0.113.7')).toBe(false);
      expect(await store.list()).toEqual([kept]);
      expect(await second.list()).toEqual([kept]);
      expect(await store.delete('203.0.113.9')).toBe(false);
    });

    it('keeps a ban for good: until Number.MAX_SAFE_INTEGER', async () => {
      const forever = sampleBan('203.0.113.7', { until: Number.MAX_SAFE_INTEGER });
      const hour = sampleBan('203.0.113.8');
      await store.put(forever);
      await store.put(hour);
      expect(byClient(await second.list())).toEqual([forever, hour]);
      // Bans put after it keep their own end.
      const later = sampleBan('203.0.113.9', { until: Date.now() + 60_000 });
      await second.put(later);
      expect(await clients(store)).toEqual(['203.0.113.7', '203.0.113.8', '203.0.113.9']);
    });

    it('replaces the ban of a client put again, longer or shorter, on every instance', async () => {
      const first = sampleBan('203.0.113.7');
      await store.put(first);
      const longer = sampleBan('203.0.113.7', {
        until: first.until + 3_600_000,
        reason: 'again',
        source: 'threats',
      });
      await second.put(longer);
      expect(await store.list()).toEqual([longer]);
      // A shorter ban replaces a longer one too, and ends when it says.
      const shorter = sampleBan('203.0.113.7', { until: Date.now() + 600, reason: 'shorter' });
      await store.put(shorter);
      expect(await second.list()).toEqual([shorter]);
      await sleep(750);
      expect(await store.list()).toEqual([]);
      expect(await second.list()).toEqual([]);
      // And a new ban after the end of the last one is listed again.
      const renewed = sampleBan('203.0.113.7', { reason: 'renewed' });
      await second.put(renewed);
      expect(await store.list()).toEqual([renewed]);
    }, 10_000);

    it('deletes a ban for every instance: true when there was one, false after', async () => {
      await store.put(sampleBan('203.0.113.7'));
      const kept = sampleBan('203.0.113.8');
      await store.put(kept);
      expect(await second.delete('203.0.113.7')).toBe(true);
      expect(await store.delete('203.0.113.7')).toBe(false);
      expect(await second.delete('203.0.113.7')).toBe(false);
      expect(await store.delete('never-banned')).toBe(false);
      expect(await store.list()).toEqual([kept]);
      expect(await second.list()).toEqual([kept]);
      // Deleted, then banned again.
      const again = sampleBan('203.0.113.7', { reason: 'again' });
      await store.put(again);
      expect(byClient(await second.list())).toEqual([again, kept]);
    });

    it('keeps addresses, IPv6 prefixes, CIDR ranges and keys apart, each as written', async () => {
      const given = CLIENTS.map((client, i) => sampleBan(client, { reason: `r${i}` }));
      for (const b of given) await store.put(b);
      expect(byClient(await second.list())).toEqual(byClient(given));
      // A range and the addresses inside it are different clients.
      expect(await second.delete('203.0.113.0/24')).toBe(true);
      expect(await store.delete('2001:db8::/32')).toBe(true);
      expect(await store.delete('2001:db8::')).toBe(false);
      expect(await store.delete('203.0.113.0')).toBe(false);
      expect(await clients(store)).toEqual(
        byClient(given)
          .map((b) => b.client)
          .filter((c) => c !== '203.0.113.0/24' && c !== '2001:db8::/32'),
      );
    });

    it('lists a thousand bans', async () => {
      const given = Array.from({ length: 1_000 }, (_, i) =>
        sampleBan(`10.${(i >> 8) & 255}.${i & 255}.1`, { until: Date.now() + 3_600_000 + i }),
      );
      for (let i = 0; i < given.length; i += 100) {
        await Promise.all(given.slice(i, i + 100).map((b, j) => (j % 2 ? second : store).put(b)));
      }
      const listed = await store.list();
      expect(listed).toHaveLength(1_000);
      expect(byClient(listed)).toEqual(byClient(given));
      expect(await second.list()).toHaveLength(1_000);
    }, 20_000);

    it('loses no concurrent put, and keeps one of those of one client', async () => {
      const distinct = Array.from({ length: 100 }, (_, i) => sampleBan(`192.0.2.${i}`));
      const same = Array.from({ length: 20 }, (_, i) =>
        sampleBan('203.0.113.7', { until: Date.now() + 60_000 * (i + 1), reason: `r${i}` }),
      );
      await Promise.all(
        [...distinct, ...same].map((b, i) => (i % 2 === 0 ? store : second).put(b)),
      );
      const listed = byClient(await store.list());
      expect(listed).toEqual(byClient(await second.list()));
      expect(listed.filter((b) => b.client !== '203.0.113.7')).toEqual(byClient(distinct));
      const kept = listed.filter((b) => b.client === '203.0.113.7');
      expect(kept).toHaveLength(1);
      expect(same).toContainEqual(kept[0]);
    });

    it('answers concurrent deletes of one ban true once', async () => {
      await store.put(sampleBan('203.0.113.7'));
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? store : second).delete('203.0.113.7')),
      );
      expect(answers.filter(Boolean)).toHaveLength(1);
      expect(await store.list()).toEqual([]);
    });

    it('keeps stores of different prefixes apart', async () => {
      const other = await harness.create();
      cleanups.push(() => other.cleanup());
      await store.put(sampleBan('203.0.113.7'));
      await other.store.put(sampleBan('203.0.113.8'));
      expect(await clients(second)).toEqual(['203.0.113.7']);
      expect(await clients(other.second ?? other.store)).toEqual(['203.0.113.8']);
      expect(await other.store.delete('203.0.113.7')).toBe(false);
      expect(await clients(store)).toEqual(['203.0.113.7']);
    });

    it('hands out copies: changing what it returned or was given changes nothing stored', async () => {
      const original = sampleBan('203.0.113.7');
      const given = { ...original };
      await store.put(given);
      given.reason = 'changed after put';
      given.until = 0;
      const [listed] = await store.list();
      listed!.reason = 'changed after list';
      listed!.until = 0;
      expect(await store.list()).toEqual([original]);
    });

    it('reports each change to the watchers of every instance, when it has watch()', async () => {
      if (!isWatched(store) || !isWatched(second)) return;
      const seen: { here: BanChange[]; there: BanChange[] } = { here: [], there: [] };
      const stops = [
        await store.watch((change) => seen.here.push(change)),
        await second.watch((change) => seen.there.push(change)),
      ];
      try {
        const given = sampleBan('203.0.113.7');
        await store.put(given);
        await eventually(
          () => seen.here.length > 0 && seen.there.length > 0,
          'the put reported to both instances',
        );
        // Nothing removed, nothing reported.
        expect(await store.delete('never-banned')).toBe(false);
        expect(await second.delete('203.0.113.7')).toBe(true);
        await eventually(
          () => seen.here.length > 1 && seen.there.length > 1,
          'the delete reported to both instances',
        );
        await sleep(50);
        for (const changes of [seen.here, seen.there]) {
          expect(changes.filter((c) => c.type !== 'resync')).toEqual([
            { type: 'put', ban: given },
            { type: 'delete', client: '203.0.113.7' },
          ]);
        }
        // A watcher stopped hears nothing more.
        await stops.pop()!();
        const heard = seen.there.length;
        await store.put(sampleBan('203.0.113.8'));
        await eventually(() => seen.here.length > 2, 'the second put reported');
        await sleep(50);
        expect(seen.there).toHaveLength(heard);
      } finally {
        for (const stop of stops) await stop();
      }
    });

    it('changes its version with every put and delete, the same on every instance', async () => {
      if (!isWatched(store) || !isWatched(second)) return;
      const watched: [WatchedBanStore, WatchedBanStore] = [store, second];
      const versions = async () => {
        const [here, there] = await Promise.all(watched.map((s) => s.version()));
        expect(here).toBe(there);
        return here;
      };
      const initial = await versions();
      await store.put(sampleBan('203.0.113.7'));
      const afterPut = await versions();
      expect(afterPut).not.toBe(initial);
      // Reads do not change it: a ban list reads the bans again only when it changed.
      await store.list();
      await second.list();
      expect(await versions()).toBe(afterPut);
      await second.put(sampleBan('203.0.113.7', { reason: 'replaced' }));
      const afterReplace = await versions();
      expect(afterReplace).not.toBe(afterPut);
      await store.delete('203.0.113.7');
      const afterDelete = await versions();
      expect([initial, afterPut, afterReplace]).not.toContain(afterDelete);
    });

    it('carries bans and unbans between the BanLists of two instances within a second', async () => {
      // Short refreshes: a store without watch() is read again by each list instead.
      const lists = [store, second].map((s) => new BanList({ store: s, refreshMs: 200 }));
      cleanups.push(() => Promise.all(lists.map((list) => list.close())));
      const [a, b] = lists as [BanList, BanList];
      await Promise.all(lists.map((list) => list.start()));
      await a.ban('203.0.113.7', '1h', 'scanner', 'threats');
      await eventually(() => b.isBanned('203.0.113.7'), 'the ban on the other instance', 1_000);
      expect(b.get('203.0.113.7')).toMatchObject({ reason: 'scanner', source: 'threats' });
      expect(await b.unban('203.0.113.7')).toBe(true);
      await eventually(() => !a.isBanned('203.0.113.7'), 'the unban on the first one', 1_000);
      expect(await store.list()).toEqual([]);
    });

    it('closes idempotently, when it has close(); calls after it reject', async () => {
      if (store.close === undefined) return;
      await store.put(sampleBan('203.0.113.7'));
      await expect(store.close()).resolves.toBeUndefined();
      await expect(store.close()).resolves.toBeUndefined();
      const s = store;
      const errors = [
        await rejection(() => s.put(sampleBan('203.0.113.8')), 'put()'),
        await rejection(() => s.delete('203.0.113.7'), 'delete()'),
        await rejection(() => s.list(), 'list()'),
      ];
      if (isWatched(s)) {
        errors.push(await rejection(() => s.watch(() => undefined), 'watch()'));
        errors.push(await rejection(() => s.version(), 'version()'));
      }
      for (const error of errors) expect(error).toBeInstanceOf(closedErrorType);
      // What was stored stays for the other instances.
      if (second !== store) expect(await clients(second)).toEqual(['203.0.113.7']);
    });
  });
}
