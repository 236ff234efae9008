import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import * as vitest from 'vitest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CacheCodecError, CacheTierError } from '../../src/cache/errors.js';
import { storageKey } from '../../src/cache/keys.js';
import { type RedisTier, redisTier } from '../../src/cache/tiers/redis.js';
import { decodeEntry, encodeEntry } from '../../src/cache/tiers/redis-entry.js';
import type { EntryMeta } from '../../src/cache/types.js';
import { InvalidArgumentError } from '../../src/index.js';
import { escapeSegment } from '../../src/redis/keys.js';
import { describeCacheTier } from '../../src/testing/index.js';
import { REDIS_URL, redis, redisCluster, requires } from '../support/requirements.js';

/** Deletes every key starting with `prefix` (the test's own keys and its sibling's). */
async function deleteKeys(client: Redis, prefix: string, oneByOne = false): Promise<void> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    // A Cluster node refuses a multi-key DEL across slots.
    if (oneByOne) for (const key of keys) await client.del(key);
    else if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

async function keysOf(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found.sort();
}

/** Redis Cluster's key slot: CRC16/XMODEM of the hash tag (or of the whole key), mod 16384. */
function keySlot(key: string): number {
  const bytes = Buffer.from(key);
  let start = bytes.indexOf('{');
  let end = bytes.length;
  if (start !== -1) {
    const close = bytes.indexOf('}', start + 1);
    if (close > start + 1) end = close;
    else start = -1;
  }
  let crc = 0;
  for (const byte of bytes.subarray(start === -1 ? 0 : start + 1, end)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

const meta = (tags: string[] = [], lifeMs = 60_000): EntryMeta => {
  const now = Date.now();
  return { createdAt: now, expiresAt: now + lifeMs / 2, staleUntil: now + lifeMs, tags };
};

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

describe.runIf(requires(redis))('redis tier', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });

  describeCacheTier<Uint8Array>('redis', vitest, {
    async create() {
      const prefix = `test:${randomUUID()}`;
      const client = new Redis(REDIS_URL);
      const tier = redisTier({ client, prefix });
      // A prefix that extends the tier's one: the hardest neighbour for clear() to leave alone.
      const sibling = redisTier({ client, prefix: `${prefix}:sibling` });
      return {
        tier,
        sibling,
        async cleanup() {
          await deleteKeys(client, prefix);
          await client.quit();
        },
      };
    },
    payload: (n) => bytes(`payload ${n} \u0000\u00ff ✓`),
  });

  describe('behaviour', () => {
    let prefix: string;
    let client: Redis;
    let tier: RedisTier;
    const opened: { close(): Promise<void> }[] = [];

    const track = <T extends { close(): Promise<void> }>(closable: T): T => {
      opened.push(closable);
      return closable;
    };

    afterEach(async () => {
      for (const closable of opened.splice(0)) await closable.close();
      await tier.close();
      await deleteKeys(admin, prefix);
      if (client.status !== 'end') await client.quit();
    });

    beforeEach(() => {
      prefix = `test:${randomUUID()}`;
      client = new Redis(REDIS_URL);
      tier = redisTier({ client, prefix });
    });

    it('keeps every key of one namespace in one hash slot, named by its hash tag', async () => {
      expect(keySlot('123456789')).toBe(0x31c3);
      expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
      for (const ns of ['users', 'a{b}', 'x:y']) {
        await tier.set(ns, 'k1', bytes('1'), meta(['t1', 't:2']));
        await tier.set(ns, 'k2', bytes('2'), meta(['t1']));
        await tier.set(ns, 'k'.repeat(500), bytes('3'), meta(['t3']));
      }
      const keys = await keysOf(admin, `${prefix}:{`);
      for (const ns of ['users', 'a{b}', 'x:y']) {
        const tag = `{${escapeSegment(ns)}}`;
        const own = keys.filter((key) => key.startsWith(`${prefix}:${tag}:`));
        // 3 entries + 3 tag sets
        expect(own).toHaveLength(6);
        expect(new Set(own.map(keySlot))).toEqual(new Set([keySlot(tag)]));
      }
      expect(keys).toContain(`${prefix}:{users}:k:${escapeSegment(storageKey('k1'))}`);
      expect(keys).toContain(`${prefix}:{users}:t:t%3A2`);
      expect(await admin.smembers(`${prefix}:tag-ns:t1`)).toEqual(
        expect.arrayContaining(['users', 'a%7Bb%7D', 'x%3Ay']),
      );
    });

    it('stores the header and payload byte for byte, tags in any script', async () => {
      const m = {
        createdAt: 1.5,
        expiresAt: Date.now() + 1e4 + 0.25,
        staleUntil: Date.now() + 2e4,
        tags: ['ünï', '✓', '😀', ''],
      };
      const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
      await tier.set('ns', 'k', payload, m);
      const entry = await tier.get('ns', 'k');
      expect(entry).toMatchObject({
        createdAt: 1.5,
        expiresAt: m.expiresAt,
        staleUntil: m.staleUntil,
        tags: m.tags,
      });
      expect(Buffer.from(entry!.payload).equals(Buffer.from(payload))).toBe(true);
      await tier.set('ns', 'empty', new Uint8Array(0), meta());
      expect((await tier.get('ns', 'empty'))?.payload.byteLength).toBe(0);
      expect(await tier.deleteByTags(['😀'])).toBe(1);
    });

    it('decodes only its own format', () => {
      const good = encodeEntry(bytes('x'), meta(['a']));
      expect(decodeEntry(good).tags).toEqual(['a']);
      const broken = [
        Buffer.from('plain string'),
        Buffer.concat([Buffer.from([2]), good.subarray(1)]),
        good.subarray(0, 33),
        (() => {
          const b = Buffer.from(good);
          b.writeUInt32BE(1_000, 1);
          return b;
        })(),
        (() => {
          const b = Buffer.from(good);
          b[33] = 0xff; // the tag's byte: not UTF-8
          return b;
        })(),
      ];
      for (const raw of broken) expect(() => decodeEntry(raw)).toThrow(CacheCodecError);
    });

    it('answers a miss for a malformed value, reports it and deletes it', async () => {
      const onMalformed = vi.fn();
      const reporting = track(redisTier({ client, prefix, onMalformed }));
      const key = `${prefix}:{ns}:k:${escapeSegment(storageKey('k'))}`;
      await admin.set(key, 'written by something else');
      expect(await reporting.get('ns', 'k')).toBeUndefined();
      expect(onMalformed).toHaveBeenCalledWith(
        expect.objectContaining({ namespace: 'ns', key: 'k', error: expect.any(CacheCodecError) }),
      );
      expect(await admin.exists(key)).toBe(0);
      // A value of another type is refused by Redis itself (WRONGTYPE) and the set replaces it.
      await admin.sadd(key, 'x');
      await expect(reporting.get('ns', 'k')).rejects.toBeInstanceOf(CacheTierError);
      await reporting.set('ns', 'k', bytes('ok'), meta(['t']));
      expect(Buffer.from((await reporting.get('ns', 'k'))!.payload).toString()).toBe('ok');
    });

    it('answers a miss for a value of a newer format version and leaves it for the instances that read it', async () => {
      const onMalformed = vi.fn();
      const reporting = track(redisTier({ client, prefix, onMalformed }));
      const key = `${prefix}:{ns}:k:${escapeSegment(storageKey('k'))}`;
      const newer = Buffer.from(encodeEntry(bytes('x'), meta()));
      newer[0] = 2;
      await admin.set(key, newer);
      expect(await reporting.get('ns', 'k')).toBeUndefined();
      expect(onMalformed.mock.calls[0]![0].error.context.reason).toBe('unsupported-version');
      expect(await admin.getBuffer(key)).toEqual(newer);
    });

    it('does not count a member whose entry was deleted and re-set without the tag', async () => {
      await tier.set('ns', 'k', bytes('1'), meta(['old']));
      expect(await tier.delete('ns', 'k')).toBe(true);
      await tier.set('ns', 'k', bytes('2'), meta(['new']));
      expect(await tier.deleteByTags(['old'])).toBe(0);
      expect(await tier.deleteByTags(['old'], 'ns')).toBe(0);
      expect(await tier.get('ns', 'k')).toBeDefined();
      // An entry with two tags is counted once and leaves no member behind in the other set.
      await tier.set('ns', 'both', bytes('3'), meta(['a', 'b']));
      expect(await tier.deleteByTags(['a', 'b'], 'ns')).toBe(1);
      expect(await admin.exists(`${prefix}:{ns}:t:a`, `${prefix}:{ns}:t:b`)).toBe(0);
    });

    it('replaces an entry by a set that is already past staleUntil', async () => {
      await tier.set('ns', 'k', bytes('1'), meta(['t']));
      const now = Date.now();
      await tier.set('ns', 'k', bytes('2'), {
        createdAt: now - 20,
        expiresAt: now - 10,
        staleUntil: now - 5,
        tags: ['t'],
      });
      expect(await tier.get('ns', 'k')).toBeUndefined();
      expect(await admin.exists(`${prefix}:{ns}:t:t`)).toBe(0);
    });

    it('deletes a tag carried by more entries than one script batch', async () => {
      const pipeline: Promise<void>[] = [];
      for (let i = 0; i < 1_200; i++)
        pipeline.push(tier.set(`n${i % 3}`, `k${i}`, bytes(String(i)), meta(['big'])));
      await Promise.all(pipeline);
      expect(await tier.deleteByTags(['big'])).toBe(1_200);
      expect(await keysOf(admin, `${prefix}:{`)).toEqual([]);
    });

    it('prunes tag-set members of expired entries on removeExpired', async () => {
      await tier.set('ns', 'short', bytes('1'), meta(['x'], 100));
      await tier.set('ns', 'long', bytes('2'), meta(['x']));
      await sleep(250);
      expect(await tier.removeExpired()).toBe(1);
      expect(await admin.smembers(`${prefix}:{ns}:t:x`)).toEqual([
        escapeSegment(storageKey('long')),
      ]);
      expect(await tier.removeExpired()).toBe(0);
      expect(await tier.deleteByTags(['x'])).toBe(1);
    });

    it('refuses invalid options and tags', async () => {
      expect(() => redisTier({})).toThrow(InvalidArgumentError);
      expect(() => redisTier({ client, url: REDIS_URL })).toThrow(InvalidArgumentError);
      expect(() => redisTier({ client, prefix: 'a{b}' })).toThrow(InvalidArgumentError);
      expect(() => redisTier({ client, commandTimeoutMs: 0 })).toThrow(InvalidArgumentError);
      const prefixed = new Redis(REDIS_URL, { keyPrefix: 'app:', lazyConnect: true });
      expect(() => redisTier({ client: prefixed })).toThrow(/keyPrefix/);
      prefixed.disconnect();
      await expect(tier.set('ns', 'k', bytes('1'), meta(['\ud800']))).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      expect(await tier.deleteByTags(['\ud800'])).toBe(0);
    });

    it('keeps keys apart that differ only by lone surrogates', async () => {
      await tier.set('ns', 'a\ud800', bytes('1'), meta());
      await tier.set('ns', 'a\udbff', bytes('2'), meta());
      await tier.set('ns\ud800', 'k', bytes('3'), meta());
      await tier.set('ns\udbff', 'k', bytes('4'), meta());
      expect(Buffer.from((await tier.get('ns', 'a\ud800'))!.payload).toString()).toBe('1');
      expect(Buffer.from((await tier.get('ns', 'a\udbff'))!.payload).toString()).toBe('2');
      expect(Buffer.from((await tier.get('ns\ud800', 'k'))!.payload).toString()).toBe('3');
      expect(Buffer.from((await tier.get('ns\udbff', 'k'))!.payload).toString()).toBe('4');
    });

    it('leaves a given client open on close and refuses calls afterwards', async () => {
      await tier.set('ns', 'k', bytes('1'), meta());
      await tier.close();
      await tier.close();
      expect(await client.ping()).toBe('PONG');
      await expect(tier.get('ns', 'k')).rejects.toBeInstanceOf(CacheTierError);
    });

    it('creates and quits its own client from a url', async () => {
      const own = track(redisTier({ url: REDIS_URL, prefix }));
      // The first call waits for the connection the constructor started.
      await own.set('ns', 'k', bytes('1'), meta());
      expect(Buffer.from((await tier.get('ns', 'k'))!.payload).toString()).toBe('1');
      await own.close();
      expect(own.client.status).toBe('end');
    });

    it('fails fast, without unhandled errors, when Redis cannot be reached', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (error: unknown) => unhandled.push(error);
      process.on('unhandledRejection', onUnhandled);
      process.on('uncaughtException', onUnhandled);
      const consoleError = vi.spyOn(console, 'error');
      const errors: Error[] = [];
      const down = redisTier({
        url: 'redis://127.0.0.1:1',
        prefix,
        commandTimeoutMs: 300,
        onError: (error) => errors.push(error),
      });
      try {
        const calls: [string, () => Promise<unknown>][] = [
          ['get', () => down.get('ns', 'k')],
          ['set', () => down.set('ns', 'k', bytes('1'), meta(['t']))],
          ['delete', () => down.delete('ns', 'k')],
          ['deleteByTags', () => down.deleteByTags(['t'])],
          ['clear', () => down.clear()],
          ['removeExpired', () => down.removeExpired()],
        ];
        for (const [name, call] of calls) {
          const started = performance.now();
          await expect(call(), name).rejects.toBeInstanceOf(CacheTierError);
          expect(performance.now() - started, name).toBeLessThan(3_000);
        }
        // Many concurrent callers during the outage: all fail, none waits on its own listener.
        const burst = await Promise.allSettled(
          Array.from({ length: 50 }, () => down.get('ns', 'k')),
        );
        expect(burst.every((r) => r.status === 'rejected')).toBe(true);
        await sleep(100);
        expect(errors.length).toBeGreaterThan(0);
        expect(unhandled).toEqual([]);
        expect(consoleError).not.toHaveBeenCalled();
      } finally {
        await down.close();
        process.off('unhandledRejection', onUnhandled);
        process.off('uncaughtException', onUnhandled);
        consoleError.mockRestore();
      }
      // No reconnection after close: the longest backoff is 2 s.
      const seen = errors.length;
      await sleep(2_200);
      expect(errors.length).toBe(seen);
      expect(down.client.status).not.toBe('ready');
    });

    it('recovers after its connection is killed', async () => {
      const own = track(
        redisTier({ url: REDIS_URL, prefix, commandTimeoutMs: 500, onError: () => {} }),
      );
      await own.set('ns', 'k', bytes('1'), meta());
      const id = await (own.client as Redis).client('ID');
      // By id: killing every `normal` connection would also hit the other suites sharing this Redis.
      expect(await admin.client('KILL', 'ID', String(id))).toBe(1);
      const deadline = Date.now() + 5_000;
      let recovered = false;
      while (!recovered && Date.now() < deadline) {
        const started = performance.now();
        try {
          recovered = (await own.get('ns', 'k')) !== undefined;
        } catch (error) {
          expect(error).toBeInstanceOf(CacheTierError);
        }
        expect(performance.now() - started).toBeLessThan(3_000);
        if (!recovered) await sleep(50);
      }
      expect(recovered).toBe(true);
      expect(await (own.client as Redis).client('ID')).not.toBe(id);
    });
  });
});

/**
 * The same contract on a Redis Cluster: TEST_REDIS_CLUSTER_NODES, or the one the test run starts
 * (tests/support/redis-cluster-setup.ts).
 */
const clusterNodes = process.env.TEST_REDIS_CLUSTER_NODES?.split(',').map((node) => {
  const [host, port] = node.split(':');
  return { host: host!, port: Number(port) };
});

describe.runIf(redisCluster())('redis tier on a Cluster', () => {
  async function deleteClusterKeys(cluster: Cluster, prefix: string): Promise<void> {
    for (const node of cluster.nodes('master')) await deleteKeys(node, prefix, true);
  }

  describeCacheTier<Uint8Array>('redis cluster', vitest, {
    async create() {
      const prefix = `test:${randomUUID()}`;
      const cluster = new Cluster(clusterNodes!);
      await new Promise((resolve) => cluster.once('ready', resolve));
      const tier = redisTier({ client: cluster, prefix });
      const sibling = redisTier({ client: cluster, prefix: `${prefix}:sibling` });
      return {
        tier,
        sibling,
        async cleanup() {
          await deleteClusterKeys(cluster, prefix);
          await cluster.quit();
        },
      };
    },
    payload: (n) => bytes(`payload ${n}`),
  });

  it('spreads namespaces over the masters and still clears and prunes them all', async () => {
    const prefix = `test:${randomUUID()}`;
    const cluster = new Cluster(clusterNodes!);
    await new Promise((resolve) => cluster.once('ready', resolve));
    const tier = redisTier({ client: cluster, prefix });
    try {
      for (let i = 0; i < 30; i++) {
        await tier.set(`ns${i}`, 'k', bytes(String(i)), meta(['all']));
        await tier.set(`ns${i}`, 'short', bytes(String(i)), meta(['all'], 100));
      }
      const perNode = await Promise.all(
        cluster.nodes('master').map(async (node) => (await keysOf(node, `${prefix}:{`)).length),
      );
      expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
      await sleep(250);
      expect(await tier.removeExpired()).toBe(30);
      expect(await tier.deleteByTags(['all'])).toBe(30);
      for (let i = 0; i < 30; i++) await tier.set(`ns${i}`, 'k', bytes(String(i)), meta(['all']));
      await tier.clear();
      for (const node of cluster.nodes('master')) expect(await keysOf(node, prefix)).toEqual([]);
    } finally {
      await deleteClusterKeys(cluster, prefix);
      await cluster.quit();
    }
  });
});
