import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as vitest from 'vitest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadPeer } from '../../src/cache/tiers/sql-common.js';
import { type SqliteDatabaseLike, SqliteTier, sqliteTier } from '../../src/cache/tiers/sqlite.js';
import { InvalidArgumentError, LifecycleError, MissingDependencyError } from '../../src/index.js';
import { describeCacheTier, entryMeta as meta } from '../../src/testing/index.js';

const bytes = (n: number) => new TextEncoder().encode(`payload ${n}`);

/** A fresh directory under the system's temp dir, for one test's database file and its WAL. */
function tempDir(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'revcopy-sqlite-tier-'));
  return {
    file: join(dir, 'cache.db'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describeCacheTier<Uint8Array>('sqlite (given database)', vitest, {
  async create() {
    const dir = tempDir();
    const db = new Database(dir.file);
    const tier = sqliteTier({ database: db, table: 'cache' });
    const sibling = sqliteTier({ database: db, table: 'other_cache' });
    return {
      tier,
      sibling,
      async cleanup() {
        await tier.close();
        await sibling.close();
        db.close();
        dir.remove();
      },
    };
  },
  payload: bytes,
});

describeCacheTier<Uint8Array>('sqlite (own file)', vitest, {
  async create() {
    const dir = tempDir();
    const tier = sqliteTier({ filename: dir.file });
    return {
      tier,
      async cleanup() {
        await tier.close();
        dir.remove();
      },
    };
  },
  payload: bytes,
});

describe('sqlite tier', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  /** A database file that the test may open as often as it likes; removed after the test. */
  const file = () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    return dir.file;
  };
  const open = (filename: string) => {
    const db = new Database(filename);
    cleanups.push(() => {
      db.close();
    });
    return db;
  };
  const names = (db: Database.Database, type: string) =>
    (
      db.prepare('SELECT name FROM sqlite_master WHERE type = ? ORDER BY name').all(type) as {
        name: string;
      }[]
    ).map((row) => row.name);

  it('creates its tables and indexes at the first operation, once for concurrent calls', async () => {
    const db = open(file());
    const tier = sqliteTier({ database: db, table: 'entries' });
    expect(names(db, 'table')).toEqual([]);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? tier.set('ns', `k${i}`, bytes(i), meta({ tags: ['t'] }))
          : tier.get('ns', `k${i}`),
      ),
    );
    expect(names(db, 'table')).toEqual(['entries', 'entries_tags']);
    expect(names(db, 'index')).toEqual(
      expect.arrayContaining(['entries_stale_until_idx', 'entries_tags_tag_idx']),
    );
    expect((await tier.get('ns', 'k0'))?.tags).toEqual(['t']);
    // A second tier finds the tables there.
    expect(await sqliteTier({ database: db, table: 'entries' }).get('ns', 'k0')).toBeDefined();
  });

  it('creates the tables again when they were dropped after their creation', async () => {
    const db = open(':memory:');
    const tier = sqliteTier({ database: db, table: 'entries' });
    await tier.set('ns', 'k', bytes(1), meta({ tags: ['t'] }));
    db.exec('DROP TABLE entries; DROP TABLE entries_tags');
    expect(await tier.get('ns', 'k')).toBeUndefined();
    await tier.set('ns', 'k', bytes(2), meta({ tags: ['t'] }));
    db.exec('DROP TABLE entries_tags');
    expect(await tier.deleteByTags(['t'])).toBe(0);
    await tier.set('ns', 'k', bytes(3), meta({ tags: ['t'] }));
    expect(await tier.deleteByTags(['t'])).toBe(1);
  });

  it('leaves the tables to the application when createTable is false', async () => {
    const tier = sqliteTier({ table: 'entries', createTable: false });
    cleanups.push(() => tier.close());
    await expect(tier.get('ns', 'k')).rejects.toThrow(/no such table/);
  });

  it('never closes nor reconfigures a database it was given, and refuses calls once closed', async () => {
    const db = open(file());
    const journal = db.pragma('journal_mode', { simple: true });
    const tier = sqliteTier({ database: db });
    await tier.set('ns', 'k', bytes(1), meta());
    await tier.close();
    await tier.close();
    expect(db.open).toBe(true);
    expect(db.pragma('journal_mode', { simple: true })).toBe(journal);
    expect(db.prepare('SELECT count(*) AS n FROM enterprise_cache').get()).toEqual({ n: 1 });
    await expect(tier.get('ns', 'k')).rejects.toBeInstanceOf(LifecycleError);
  });

  it('opens its own file in WAL mode, closes it, and finds the entries again after reopening', async () => {
    const filename = file();
    const first = sqliteTier({ filename, table: 'entries' });
    await first.set('ns', 'k', bytes(1), meta({ tags: ['a', 'b'] }));
    const reader = open(filename);
    expect(reader.pragma('journal_mode', { simple: true })).toBe('wal');
    await first.close();
    await first.close();
    await expect(first.get('ns', 'k')).rejects.toBeInstanceOf(LifecycleError);

    const second = sqliteTier({ filename, table: 'entries' });
    cleanups.push(() => second.close());
    const entry = await second.get('ns', 'k');
    expect(Buffer.from(entry!.payload)).toEqual(Buffer.from(bytes(1)));
    expect(entry!.tags).toEqual(['a', 'b']);
    expect(await second.deleteByTags(['b'])).toBe(1);
  });

  it('keeps entries in memory by default', async () => {
    const tier = sqliteTier();
    cleanups.push(() => tier.close());
    await tier.set('ns', 'k', bytes(1), meta());
    expect(await tier.get('ns', 'k')).toBeDefined();
  });

  it('rejects an invalid table name and invalid options with InvalidArgumentError', () => {
    for (const bad of [
      '',
      'drop table x; --',
      '1cache',
      'a.b.c',
      'cache-entries',
      '"quoted"',
      'sqlite_cache',
      'main.SQLITE_x',
      'x'.repeat(64),
      null,
    ]) {
      expect(() => sqliteTier({ table: bad as string }), String(bad)).toThrow(InvalidArgumentError);
    }
    for (const good of ['cache', '_c', 'main.Cache_2', 'x'.repeat(63)]) {
      expect(sqliteTier({ table: good })).toBeInstanceOf(SqliteTier);
    }
    const db = open(':memory:');
    expect(() => sqliteTier({ database: db, filename: ':memory:' })).toThrow(InvalidArgumentError);
    expect(() => sqliteTier({ database: {} as SqliteDatabaseLike })).toThrow(InvalidArgumentError);
    expect(() => sqliteTier({ timeoutMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => sqliteTier({ createTable: 'yes' as unknown as boolean })).toThrow(
      InvalidArgumentError,
    );
  });

  it('works in an attached database named in the table', async () => {
    const db = open(':memory:');
    db.exec(`ATTACH DATABASE '${file()}' AS side`);
    const tier = sqliteTier({ database: db, table: 'side.entries' });
    await tier.set('ns', 'k', bytes(1), meta({ tags: ['t'] }));
    expect(await tier.get('ns', 'k')).toBeDefined();
    expect(
      db.prepare("SELECT name FROM side.sqlite_master WHERE type = 'table' ORDER BY name").all(),
    ).toEqual([{ name: 'entries' }, { name: 'entries_tags' }]);
    expect(await tier.deleteByTags(['t'], 'ns')).toBe(1);
    db.exec('DETACH DATABASE side');
  });

  it('fails a write within timeoutMs while another connection holds the lock, and still reads', async () => {
    const filename = file();
    const tier = sqliteTier({ filename, timeoutMs: 300 });
    cleanups.push(() => tier.close());
    await tier.set('ns', 'k', bytes(1), meta());
    const other = open(filename);
    other.exec('BEGIN EXCLUSIVE');
    try {
      const started = performance.now();
      await expect(tier.set('ns', 'k', bytes(2), meta())).rejects.toMatchObject({
        code: 'SQLITE_BUSY',
      });
      const ms = performance.now() - started;
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(5_000);
      // WAL: a writer's lock does not stop readers.
      expect(Buffer.from((await tier.get('ns', 'k'))!.payload)).toEqual(Buffer.from(bytes(1)));
    } finally {
      other.exec('ROLLBACK');
    }
    await tier.set('ns', 'k', bytes(2), meta());
    expect(Buffer.from((await tier.get('ns', 'k'))!.payload)).toEqual(Buffer.from(bytes(2)));
  });

  it('removes a backlog of 25,000 expired rows in batches, with their tags, and keeps live ones', async () => {
    const db = open(file());
    let batches = 0;
    // The given database, with the statement that deletes one batch counted.
    const counting: SqliteDatabaseLike = {
      prepare(source) {
        const statement = db.prepare(source);
        if (!source.includes('stale_until <=')) return statement;
        return {
          run: (...params) => statement.run(...params),
          get: (...params) => statement.get(...params),
          all: (...params) => {
            batches++;
            return statement.all(...params);
          },
        };
      },
      exec: (source) => db.exec(source),
      transaction: (fn) => db.transaction(fn),
      pragma: (source, options) => db.pragma(source, options),
      close: () => db.close(),
      get open() {
        return db.open;
      },
      get memory() {
        return db.memory;
      },
    };
    const tier = sqliteTier({ database: counting, table: 'entries' });
    await tier.set('ns', 'live', bytes(1), meta({ tags: ['t'] }));
    const past = Date.now() - 10_000;
    db.exec(`
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000)
      INSERT INTO entries (namespace, key, value, tags, created_at, expires_at, stale_until)
      SELECT 'ns', '=old' || i, x'00', '["t","u"]', ${past}, ${past}, ${past} FROM n;
      INSERT INTO entries_tags (namespace, key, tag)
      SELECT namespace, key, 't' FROM entries WHERE key != '=live'
      UNION ALL SELECT namespace, key, 'u' FROM entries WHERE key != '=live';
    `);
    expect(await tier.removeExpired()).toBe(25_000);
    expect(batches).toBe(3);
    expect(db.prepare('SELECT key FROM entries').all()).toEqual([{ key: '=live' }]);
    expect(db.prepare('SELECT key, tag FROM entries_tags').all()).toEqual([
      { key: '=live', tag: 't' },
    ]);
    expect(await tier.removeExpired()).toBe(0);
  });

  it('keeps the tag table in step with the entries on replace, delete, deleteByTags and clear', async () => {
    const db = open(':memory:');
    const tier = sqliteTier({ database: db, table: 'entries' });
    const tagRows = () =>
      db.prepare('SELECT count(*) AS n FROM entries_tags').get() as { n: number };
    await tier.set('n1', 'a', bytes(1), meta({ tags: ['x', 'y', 'x'] }));
    await tier.set('n1', 'a', bytes(1), meta({ tags: ['z'] }));
    expect(tagRows().n).toBe(1);
    await tier.set('n1', 'b', bytes(2), meta({ tags: ['x', 'y'] }));
    expect(await tier.deleteByTags(['x'])).toBe(1);
    expect(tagRows().n).toBe(1);
    expect(await tier.delete('n1', 'a')).toBe(true);
    expect(tagRows().n).toBe(0);
    await tier.set('n1', 'c', bytes(3), meta({ tags: ['x'] }));
    await tier.set('n2', 'c', bytes(3), meta({ tags: ['x'] }));
    await tier.clear('n1');
    expect(tagRows().n).toBe(1);
    await tier.clear();
    expect(tagRows().n).toBe(0);
  });

  it('round-trips every byte value, empty payloads and views into larger buffers', async () => {
    const tier = sqliteTier();
    cleanups.push(() => tier.close());
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const backing = new Uint8Array(300).fill(7);
    backing.set(all.subarray(10, 50), 100);
    await tier.set('ns', 'all', all, meta());
    await tier.set('ns', 'empty', new Uint8Array(0), meta());
    await tier.set('ns', 'view', backing.subarray(100, 140), meta());
    expect(Buffer.from((await tier.get('ns', 'all'))!.payload).equals(Buffer.from(all))).toBe(true);
    expect((await tier.get('ns', 'empty'))!.payload.byteLength).toBe(0);
    expect(Buffer.from((await tier.get('ns', 'view'))!.payload)).toEqual(
      Buffer.from(all.subarray(10, 50)),
    );
  });

  it("judges staleness by the application's clock", async () => {
    const tier = sqliteTier();
    cleanups.push(() => tier.close());
    const now = Date.now();
    await tier.set('ns', 'k', bytes(1), meta({ staleUntil: now + 60_000 }));
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      expect(await tier.get('ns', 'k')).toBeUndefined();
      expect(await tier.removeExpired()).toBe(1);
    } finally {
      clock.mockRestore();
    }
    expect(await tier.get('ns', 'k')).toBeUndefined();
  });

  it('keeps keys apart that SQL text cannot hold as they are', async () => {
    const tier = sqliteTier();
    cleanups.push(() => tier.close());
    const keys = ['\uD800', '\uD801', 'a\u0000b', 'a\u0000c', '\uFFFD', 'x'.repeat(201)];
    for (const [i, key] of keys.entries()) await tier.set('ns', key, bytes(i), meta());
    for (const [i, key] of keys.entries()) {
      expect(Buffer.from((await tier.get('ns', key))!.payload), JSON.stringify(key)).toEqual(
        Buffer.from(bytes(i)),
      );
    }
  });

  it('keeps an entry that never goes stale', async () => {
    const tier = sqliteTier();
    cleanups.push(() => tier.close());
    const forever = meta({
      expiresAt: Number.POSITIVE_INFINITY,
      staleUntil: Number.POSITIVE_INFINITY,
    });
    await tier.set('ns', 'k', bytes(1), forever);
    expect(await tier.get('ns', 'k')).toMatchObject({ staleUntil: Number.POSITIVE_INFINITY });
    expect(await tier.removeExpired()).toBe(0);
    await expect(tier.set('ns', 'k', bytes(1), meta({ staleUntil: Number.NaN }))).rejects.toThrow(
      InvalidArgumentError,
    );
  });

  it('names the package to install when an optional peer is missing', () => {
    const load = () => loadPeer('@revcopy/not-an-installed-peer', 'the SQLite cache tier');
    expect(load).toThrow(MissingDependencyError);
    expect(load).toThrow(/npm install @revcopy\/not-an-installed-peer/);
  });
});
