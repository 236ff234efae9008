import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/cache/cache.js';
import type { CodecOptions } from '../../src/cache/codec.js';
import { postgresTier } from '../../src/cache/tiers/postgres.js';
import { sqliteTier } from '../../src/cache/tiers/sqlite.js';
import type { CacheTier } from '../../src/cache/types.js';
import { POSTGRES_URL, postgres, requires } from '../support/requirements.js';

// Fault injection on real SQL stores: the columns beside the entry's bytes (times, tags) are
// rewritten directly in the table, as someone with write access to the database could, and each
// cache instance must then treat the entry as a miss. See "Threat model" in docs/cache.md.

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const withK1: CodecOptions = { encryption: { keys: { k1: K1 }, currentKeyId: 'k1' } };
const withK2: CodecOptions = { encryption: { keys: { k1: K1, k2: K2 }, currentKeyId: 'k2' } };

/** Direct access to one test's table, beside the tier. Keys are stored as `=key`. */
interface SqlStore {
  tier(): CacheTier;
  /** Applies `assignment` (an SQL SET list) to the row of `key`. */
  update(key: string, assignment: string): Promise<void>;
  /** Removes `tag` from the entry's tags everywhere the tier indexes them. */
  removeTag(key: string, tag: string): Promise<void>;
  /** Flips one bit of the stored value, 20 bytes before its end (inside the ciphertext). */
  flipByte(key: string): Promise<void>;
  rowExists(key: string): Promise<boolean>;
  cleanup(): Promise<void>;
}

async function until(check: () => Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

function integritySuite(name: string, open: () => Promise<SqlStore>): void {
  describe(`cache on ${name}: columns rewritten behind its back`, () => {
    let store: SqlStore;
    const caches: Cache[] = [];

    const instance = (codec: CodecOptions): Cache => {
      const cache = createCache({ tiers: [store.tier()], codec, logger: silent, bus: false });
      caches.push(cache);
      return cache;
    };
    const decodeErrors = (cache: Cache) => {
      const events: { reason: string; corrupt: boolean }[] = [];
      cache.on('decode-error', (e) => events.push({ reason: e.reason, corrupt: e.corrupt }));
      return events;
    };

    afterEach(async () => {
      for (const cache of caches.splice(0)) await cache.close();
      await store?.cleanup();
    });

    it('does not serve an expired entry whose expires_at was extended', async () => {
      store = await open();
      const cache = instance(withK1);
      const events = decodeErrors(cache);
      await cache.set('k', { role: 'viewer' }, { ttl: '100ms', grace: '1m' });
      await sleep(150);
      expect(await cache.get('k')).toBeUndefined();
      await store.update('k', `expires_at = ${Date.now() + 3_600_000}`);
      expect(await cache.get('k')).toBeUndefined();
      expect(events).toEqual([{ reason: 'authentication-failed', corrupt: true }]);
      await until(async () => !(await store.rowExists('k')));
    });

    it('does not serve an entry whose stale_until was extended', async () => {
      store = await open();
      const cache = instance(withK1);
      await cache.set('k', 'v', { ttl: '1h' });
      await store.update('k', `stale_until = ${Date.now() + 7_200_000}`);
      expect(await cache.get('k')).toBeUndefined();
    });

    it('does not let an entry escape a tag invalidation by a tag removed from its row', async () => {
      store = await open();
      const cache = instance(withK1);
      await cache.set('k', { role: 'admin' }, { tags: ['user:1', 'all'] });
      await store.removeTag('k', 'user:1');
      await cache.invalidateTags(['user:1']);
      expect(await store.rowExists('k')).toBe(true);
      expect(await cache.get('k')).toBeUndefined();
    });

    it('deletes an entry with a flipped ciphertext byte, and keeps one its key id is unknown to', async () => {
      store = await open();
      const rotated = instance(withK2);
      const behind = instance(withK1);
      const events = decodeErrors(behind);
      await rotated.set('new', 'k2 entry');
      expect(await behind.get('new')).toBeUndefined();
      await behind.set('flipped', 'k1 entry');
      await store.flipByte('flipped');
      expect(await behind.get('flipped')).toBeUndefined();
      expect(events).toEqual([
        { reason: 'unknown-key-id', corrupt: false },
        { reason: 'authentication-failed', corrupt: true },
      ]);
      await until(async () => !(await store.rowExists('flipped')));
      expect(await store.rowExists('new')).toBe(true);
      expect(await rotated.get('new')).toBe('k2 entry');
    });
  });
}

describe.runIf(requires(postgres))('postgres', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
  });
  afterAll(async () => {
    await pool.end();
  });

  integritySuite('PostgreSQL', async () => {
    const table = `cache_integrity_${randomBytes(6).toString('hex')}`;
    const tier = postgresTier({ pool, table });
    const where = `WHERE namespace = 'default' AND key = $1`;
    return {
      tier: () => tier,
      async update(key, assignment) {
        await pool.query(`UPDATE "${table}" SET ${assignment} ${where}`, [`=${key}`]);
      },
      async removeTag(key, tag) {
        await pool.query(`UPDATE "${table}" SET tags = array_remove(tags, $2) ${where}`, [
          `=${key}`,
          tag,
        ]);
      },
      async flipByte(key) {
        await pool.query(
          `UPDATE "${table}"
           SET value = set_byte(value, length(value) - 20, get_byte(value, length(value) - 20) # 1)
           ${where}`,
          [`=${key}`],
        );
      },
      async rowExists(key) {
        const { rows } = await pool.query(`SELECT 1 FROM "${table}" ${where}`, [`=${key}`]);
        return rows.length === 1;
      },
      async cleanup() {
        await tier.close();
        await pool.query(`DROP TABLE IF EXISTS "${table}"`);
      },
    };
  });
});

integritySuite('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'revcopy-integrity-'));
  const db = new Database(join(dir, 'cache.db'));
  const tier = sqliteTier({ database: db, table: 'cache' });
  const where = `WHERE namespace = 'default' AND key = ?`;
  return {
    tier: () => tier,
    async update(key, assignment) {
      db.prepare(`UPDATE cache SET ${assignment} ${where}`).run(`=${key}`);
    },
    async removeTag(key, tag) {
      // Both places the tier keeps tags: the column get returns, and the index deleteByTags reads.
      const row = db.prepare(`SELECT tags FROM cache ${where}`).get(`=${key}`) as { tags: string };
      const tags = (JSON.parse(row.tags) as string[]).filter((t) => t !== tag);
      db.prepare(`UPDATE cache SET tags = ? ${where}`).run(JSON.stringify(tags), `=${key}`);
      db.prepare(`DELETE FROM cache_tags ${where} AND tag = ?`).run(`=${key}`, tag);
    },
    async flipByte(key) {
      const row = db.prepare(`SELECT value FROM cache ${where}`).get(`=${key}`) as {
        value: Buffer;
      };
      const value = Buffer.from(row.value);
      value[value.length - 20] = value[value.length - 20]! ^ 0x01;
      db.prepare(`UPDATE cache SET value = ? ${where}`).run(value, `=${key}`);
    },
    async rowExists(key) {
      return db.prepare(`SELECT 1 FROM cache ${where}`).get(`=${key}`) !== undefined;
    },
    async cleanup() {
      await tier.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
