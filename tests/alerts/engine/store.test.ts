import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAlertStore } from '../../../src/alerts/memory-store.js';
import { RedisAlertStore } from '../../../src/alerts/redis-store.js';
import type { AlertStore, AlertTransition, Silence } from '../../../src/alerts/types.js';
import { createClient, quitClient, whenReady } from '../../../src/redis/client.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import { EPOCH, fakeClock } from './helpers.js';

function transition(fingerprint: string, to: AlertTransition['to'], at = 0): AlertTransition {
  return {
    fingerprint,
    rule: 'R',
    from: 'pending',
    to,
    at: new Date(EPOCH + at).toISOString(),
    severity: 'warning',
    labels: { alertname: 'R' },
    value: 1,
  };
}

const silence: Silence = {
  id: 's1',
  matchers: [{ name: 'service', value: 'api', op: '=' }],
  startsAt: new Date(EPOCH).toISOString(),
  endsAt: new Date(EPOCH + 3_600_000).toISOString(),
  createdBy: 'alice',
  comment: 'deploy',
};

/** The behaviour every AlertStore shares; `wait(ms)` lets TTLs pass (fake or real time). */
function storeSuite(
  name: string,
  make: () => { store: AlertStore; wait: (ms: number) => Promise<void> },
) {
  describe(`AlertStore: ${name}`, () => {
    let store: AlertStore;
    let wait: (ms: number) => Promise<void>;
    afterEach(async () => {
      await store.close?.();
    });
    const fresh = () => ({ store, wait } = make());

    it('lets exactly one caller claim a key until its TTL passes', async () => {
      fresh();
      const results = await Promise.all([
        store.claim('k', 100),
        store.claim('k', 100),
        store.claim('k', 100),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.claim('other', 100)).toBe(true);
      await wait(150);
      expect(await store.claim('k', 100)).toBe(true);
    });

    it('returns the first start of an episode to every caller until it ends', async () => {
      fresh();
      expect(await store.episode('g:1', 1_000, 60_000)).toBe(1_000);
      expect(await store.episode('g:1', 2_000, 60_000)).toBe(1_000);
      await store.touchEpisodes(['g:1', 'g:none'], 60_000);
      expect(await store.episode('g:1', 3_000)).toBe(1_000);
      await store.endEpisode('g:1');
      expect(await store.episode('g:1', 4_000, 60_000)).toBe(4_000);
    });

    it('forgets an episode nobody touched within its TTL', async () => {
      fresh();
      expect(await store.episode('a:x', 1, 100)).toBe(1);
      await wait(150);
      expect(await store.episode('a:x', 2, 100)).toBe(2);
    });

    it('keeps acknowledgements and silences', async () => {
      fresh();
      await store.acknowledge('fp1', {
        by: 'bob',
        at: new Date(EPOCH).toISOString(),
        comment: 'mine',
      });
      await store.acknowledge('fp2', { by: 'eve', at: new Date(EPOCH).toISOString() });
      expect([...(await store.acknowledgements()).keys()].sort()).toEqual(['fp1', 'fp2']);
      expect((await store.acknowledgements()).get('fp1')).toEqual({
        by: 'bob',
        at: new Date(EPOCH).toISOString(),
        comment: 'mine',
      });
      await store.clearAcknowledgement('fp1');
      expect([...(await store.acknowledgements()).keys()]).toEqual(['fp2']);

      await store.putSilence(silence);
      await store.putSilence({ ...silence, comment: 'edited' });
      expect(await store.silences()).toEqual([{ ...silence, comment: 'edited' }]);
      expect(await store.deleteSilence('s1')).toBe(true);
      expect(await store.deleteSilence('s1')).toBe(false);
      expect(await store.silences()).toEqual([]);
    });

    it('keeps the latest `limit` transitions, newest first, and drops duplicates within dedupeMs', async () => {
      fresh();
      for (let i = 0; i < 5; i++) await store.record(transition(`fp${i}`, 'firing', i), 3);
      expect((await store.history(10)).map((t) => t.fingerprint)).toEqual(['fp4', 'fp3', 'fp2']);
      expect((await store.history(2)).map((t) => t.fingerprint)).toEqual(['fp4', 'fp3']);
      await store.record(transition('dup', 'firing'), 10, 100);
      await store.record(transition('dup', 'firing'), 10, 100);
      await store.record(transition('dup', 'resolved'), 10, 100);
      expect(
        (await store.history(10)).filter((t) => t.fingerprint === 'dup').map((t) => t.to),
      ).toEqual(['resolved', 'firing']);
      await wait(150);
      await store.record(transition('dup', 'firing'), 10, 100);
      expect((await store.history(10)).filter((t) => t.fingerprint === 'dup')).toHaveLength(3);
    });
  });
}

storeSuite('memory', () => {
  const clock = fakeClock();
  return {
    store: new MemoryAlertStore({ clock }),
    wait: async (ms) => clock.advance(ms),
  };
});

describe.runIf(requires(redis))('RedisAlertStore (real Redis)', () => {
  const prefixes: string[] = [];
  let admin: Redis;
  beforeAll(async () => {
    admin = createClient(REDIS_URL, 1_000, undefined);
    await whenReady(admin, 2_000);
  });
  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await admin.keys(`{${prefix}}:*`);
      if (keys.length > 0) await admin.del(...keys);
    }
    await quitClient(admin);
  });

  storeSuite('redis', () => {
    const prefix = `test:alerts:${randomUUID()}`;
    prefixes.push(prefix);
    return {
      store: new RedisAlertStore({ url: REDIS_URL, prefix }),
      wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
  });

  it('puts every key under the `{prefix}` hash tag', async () => {
    const prefix = `test:alerts:${randomUUID()}`;
    prefixes.push(prefix);
    const store = new RedisAlertStore({ url: REDIS_URL, prefix });
    await store.claim('c', 10_000);
    await store.episode('g:1', 1, 10_000);
    await store.acknowledge('fp', { by: 'x', at: 'now' });
    await store.putSilence(silence);
    await store.record(transition('fp', 'firing'), 10, 10_000);
    const keys = (await admin.keys(`*${prefix}*`)).sort();
    expect(keys.length).toBe(6);
    for (const key of keys) expect(key.startsWith(`{${prefix}}:`)).toBe(true);
    await store.close();
  });
});
