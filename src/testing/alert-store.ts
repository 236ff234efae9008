import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertStore, AlertTransition, Silence } from '../alerts/types.js';
import type { TestApi } from './test-api.js';

/** A store under test, with a second view of the same state when the store is shared. */
export interface AlertStoreUnderTest {
  store: AlertStore;
  /**
   * A second store on the same state, as another process of the deployment opens it (its own
   * connection, the same prefix). The tests about what instances share run through it; without
   * one (a store for one process) they use `store` twice.
   */
  second?: AlertStore;
  /** Removes what the test left (its keys); runs after the suite's own calls, `close()` included. */
  cleanup(): unknown;
}

/** How a conformance run builds the store under test. */
export interface AlertStoreHarness {
  /** A fresh store, isolated from every other test: its own key prefix, table or file. */
  create(): AlertStoreUnderTest | Promise<AlertStoreUnderTest>;
}

const ack = (by: string, comment?: string) => ({
  by,
  at: new Date().toISOString(),
  ...(comment === undefined ? {} : { comment }),
});

function transition(n: number, overrides: Partial<AlertTransition> = {}): AlertTransition {
  return {
    fingerprint: 'f3a1c2d4e5b60718',
    rule: 'HighLatency',
    from: 'inactive',
    to: 'firing',
    at: new Date(1_700_000_000_000 + n * 1_000).toISOString(),
    severity: 'critical',
    labels: { alertname: 'HighLatency', operation: 'GET /users', n: String(n) },
    value: 600 + n,
    ...overrides,
  };
}

function silence(id: string, overrides: Partial<Silence> = {}): Silence {
  const now = Date.now();
  return {
    id,
    matchers: [
      { name: 'alertname', value: 'HighLatency' },
      { name: 'service', value: 'api|web', op: '=~' },
      { name: 'env', value: 'dev', op: '!=' },
    ],
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    createdBy: 'dave',
    comment: 'deploying — Zürich ✓ <b>',
    ...overrides,
  };
}

const byId = (list: readonly Silence[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));

/**
 * The contract every `AlertStore` passes, so instances of a deployment sharing it send each
 * notification once: a claim held by exactly one caller until its TTL, an episode start that the
 * first writer sets and every caller reads back (forgotten a TTL after its last touch, ended on
 * demand), acknowledgements and silences shared by every instance, and a history capped and newest
 * first that holds a change recorded by several instances once. Real time with short durations
 * (a few seconds in all). The package's memory and Redis stores (standalone and Cluster) run it.
 *
 * @param api - the runner's test functions (see {@link TestApi}).
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { describeAlertStore } from '@revcopy/enterprise/testing';
 *
 * describeAlertStore('postgres', vitest, {
 *   async create() {
 *     const schema = `alerts_${crypto.randomUUID().slice(0, 8)}`;
 *     const store = new PostgresAlertStore({ url: process.env.DATABASE_URL, schema });
 *     const second = new PostgresAlertStore({ url: process.env.DATABASE_URL, schema });
 *     return { store, second, cleanup: () => dropSchema(schema) };
 *   },
 * });
 * ```
 */
export function describeAlertStore(name: string, api: TestApi, harness: AlertStoreHarness): void {
  const { describe, it, expect, beforeEach, afterEach } = api;
  describe(`AlertStore conformance: ${name}`, () => {
    let store: AlertStore;
    let second: AlertStore;
    let cleanup: () => unknown;
    beforeEach(async () => {
      const created = await harness.create();
      store = created.store;
      second = created.second ?? created.store;
      cleanup = () => created.cleanup();
    });
    afterEach(async () => {
      await cleanup();
    });

    it('grants a claim to exactly one caller until its TTL has passed', async () => {
      expect(await store.claim('n1', 5_000)).toBe(true);
      expect(await store.claim('n1', 5_000)).toBe(false);
      expect(await second.claim('n1', 5_000)).toBe(false);
      expect(await second.claim('n2', 5_000)).toBe(true);
      expect(await store.claim('n2', 5_000)).toBe(false);
    });

    it('grants a claim to one of many concurrent callers', async () => {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? store : second).claim('race', 5_000)),
      );
      expect(answers.filter(Boolean)).toHaveLength(1);
    });

    it('grants a claim again once its TTL has passed, not before', async () => {
      expect(await store.claim('short', 400)).toBe(true);
      await sleep(150);
      expect(await second.claim('short', 400)).toBe(false);
      await sleep(500);
      expect(await second.claim('short', 5_000)).toBe(true);
      expect(await store.claim('short', 5_000)).toBe(false);
    }, 10_000);

    it('keeps the first start of an episode and gives it to every caller', async () => {
      expect(await store.episode('g:1', 1_000, 60_000)).toBe(1_000);
      expect(await store.episode('g:1', 2_000, 60_000)).toBe(1_000);
      expect(await second.episode('g:1', 3_000, 60_000)).toBe(1_000);
      // Without a TTL too, and each key on its own.
      expect(await second.episode('g:2', 4_000)).toBe(4_000);
      expect(await store.episode('g:2', 5_000)).toBe(4_000);
      expect(await store.episode('g:1', 6_000, 60_000)).toBe(1_000);
    });

    it('gives concurrent first callers of an episode one start, one of theirs', async () => {
      const starts = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 === 0 ? store : second).episode('race', 1_000 + i, 60_000),
        ),
      );
      expect(new Set(starts).size).toBe(1);
      expect(starts[0]! >= 1_000 && starts[0]! < 1_012).toBe(true);
    });

    it('forgets an episode its TTL after the last episode() or touchEpisodes() call', async () => {
      // Calls 300 ms apart with a TTL of 450 ms: each call is what keeps it.
      expect(await store.episode('e', 1_000, 450)).toBe(1_000);
      await sleep(300);
      expect(await second.episode('e', 2_000, 450)).toBe(1_000);
      await sleep(300);
      await store.touchEpisodes(['e', 'missing'], 450);
      await sleep(300);
      expect(await second.episode('e', 3_000, 450)).toBe(1_000);
      // Untouched for longer than its TTL: the next caller starts a new one.
      await sleep(750);
      expect(await store.episode('e', 4_000, 450)).toBe(4_000);
      expect(await second.episode('e', 5_000, 450)).toBe(4_000);
    }, 10_000);

    it('touches only episodes that exist: a missing or ended one is not brought back', async () => {
      await store.touchEpisodes([], 60_000);
      await store.touchEpisodes(['never'], 60_000);
      expect(await second.episode('never', 7_000, 60_000)).toBe(7_000);
      expect(await store.episode('ended', 1_000, 60_000)).toBe(1_000);
      await second.endEpisode('ended');
      await store.touchEpisodes(['ended'], 60_000);
      expect(await store.episode('ended', 2_000, 60_000)).toBe(2_000);
    });

    it('ends an episode for every instance, so the next firing starts a new one', async () => {
      expect(await store.episode('a:1', 1_000, 60_000)).toBe(1_000);
      expect(await store.episode('a:2', 1_500, 60_000)).toBe(1_500);
      await store.endEpisode('a:1');
      expect(await second.episode('a:1', 2_000, 60_000)).toBe(2_000);
      expect(await store.episode('a:1', 3_000, 60_000)).toBe(2_000);
      // The other episode is untouched; ending an unknown one is no error.
      expect(await second.episode('a:2', 2_500, 60_000)).toBe(1_500);
      await store.endEpisode('unknown');
    });

    it('keeps acknowledgements by fingerprint for every instance, and clears them', async () => {
      expect([...(await store.acknowledgements())]).toEqual([]);
      const first = ack('dave', 'looking — ✓');
      const other = ack('erin');
      await store.acknowledge('f1', first);
      await store.acknowledge('f2', other);
      const seen = await second.acknowledgements();
      expect(seen.size).toBe(2);
      expect(seen.get('f1')).toEqual(first);
      expect(seen.get('f2')).toEqual(other);
      expect(seen.get('f2')).not.toHaveProperty('comment');
      // The same fingerprint again replaces it.
      const later = ack('frank', 'taking over');
      await second.acknowledge('f1', later);
      expect((await store.acknowledgements()).get('f1')).toEqual(later);
      await second.clearAcknowledgement('f1');
      await store.clearAcknowledgement('unknown');
      expect([...(await store.acknowledgements()).keys()]).toEqual(['f2']);
    });

    it('adds, replaces and deletes silences for every instance', async () => {
      expect(await store.silences()).toEqual([]);
      const a = silence('s-a');
      const b = silence('s-b', { matchers: [{ name: 'team', value: 'db', op: '!~' }] });
      await store.putSilence(a);
      await second.putSilence(b);
      expect(byId(await second.silences())).toEqual([a, b]);
      // The same id again replaces it (expiring a silence rewrites its end).
      const expired = { ...a, endsAt: new Date(Date.now() - 1_000).toISOString() };
      await second.putSilence(expired);
      expect(byId(await store.silences())).toEqual([expired, b]);
      expect(await store.deleteSilence('s-a')).toBe(true);
      expect(await second.deleteSilence('s-a')).toBe(false);
      expect(await store.deleteSilence('unknown')).toBe(false);
      expect(await second.silences()).toEqual([b]);
    });

    it('hands out copies: changing what it returned or was given changes nothing stored', async () => {
      const original = silence('s-copy');
      const given = structuredClone(original);
      await store.putSilence(given);
      given.comment = 'changed after put';
      const [listed] = await store.silences();
      listed!.comment = 'changed after list';
      (listed!.matchers[0] as { value: string }).value = 'Other';
      expect(await store.silences()).toEqual([original]);

      const acknowledged = ack('dave', 'original');
      await store.acknowledge('f1', acknowledged);
      acknowledged.comment = 'changed after acknowledge';
      const returned = (await store.acknowledgements()).get('f1') as { comment?: string };
      returned.comment = 'changed after read';
      expect((await store.acknowledgements()).get('f1')).toMatchObject({ comment: 'original' });

      const recorded = transition(1);
      await store.record(recorded, 10);
      (recorded.labels as Record<string, string>).n = 'changed';
      const [read] = await store.history(10);
      (read!.labels as Record<string, string>).n = 'changed too';
      expect(await store.history(10)).toEqual([transition(1)]);
    });

    it('keeps the latest transitions up to the limit, newest first, for every instance', async () => {
      for (let n = 1; n <= 5; n++) await (n % 2 === 0 ? second : store).record(transition(n), 3);
      expect(await second.history(10)).toEqual([transition(5), transition(4), transition(3)]);
      expect(await store.history(2)).toEqual([transition(5), transition(4)]);
      expect(await store.history(0)).toEqual([]);
      // A transition keeps every field: a null value, labels with any text.
      const odd = transition(6, {
        value: null,
        to: 'nodata',
        labels: { alertname: 'Odd', path: '/a?b=<c>&d="e"', city: 'Zürich ✓' },
      });
      await store.record(odd, 3);
      expect(await second.history(1)).toEqual([odd]);
    });

    it('records a change several instances saw within dedupeMs once', async () => {
      await store.record(transition(1), 100, 5_000);
      // Another instance evaluating the same rule records the same change a moment later.
      await second.record(transition(2), 100, 5_000);
      expect(await store.history(10)).toEqual([transition(1)]);
      // Another change of the same alert, or the same change of another alert, is kept.
      const resolved = transition(3, { from: 'firing', to: 'resolved' });
      await second.record(resolved, 100, 5_000);
      const elsewhere = transition(4, { fingerprint: '0123456789abcdef' });
      await store.record(elsewhere, 100, 5_000);
      expect(await second.history(10)).toEqual([elsewhere, resolved, transition(1)]);
      // Without dedupeMs every record is kept.
      const plain = transition(5, { fingerprint: 'fedcba9876543210' });
      await store.record(plain, 100);
      await second.record(plain, 100);
      expect(await store.history(2)).toEqual([plain, plain]);
    });

    it('records the same change again once dedupeMs has passed', async () => {
      await store.record(transition(1), 100, 300);
      await sleep(500);
      await second.record(transition(2), 100, 300);
      expect(await store.history(10)).toEqual([transition(2), transition(1)]);
    }, 10_000);

    it('closes idempotently, when it has anything to close', async () => {
      await expect(Promise.resolve(store.close?.())).resolves.toBeUndefined();
      await expect(Promise.resolve(store.close?.())).resolves.toBeUndefined();
    });
  });
}
