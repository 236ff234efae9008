import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type PostgresPoolLike,
  PostgresTier,
  postgresTier,
} from '../../src/cache/tiers/postgres.js';
import { InvalidArgumentError, LifecycleError } from '../../src/index.js';
import { describeCacheTier, entryMeta as meta } from '../../src/testing/index.js';
import { POSTGRES_URL, postgres, requires } from '../support/requirements.js';

const randomTable = () => `cache_test_${randomBytes(6).toString('hex')}`;
const bytes = (n: number) => new TextEncoder().encode(`payload ${n}`);

/** A pool on the test database whose clients record the SQL they run. */
function recordingPool(): { pool: PostgresPoolLike; texts: string[]; end(): Promise<void> } {
  const real = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
  const texts: string[] = [];
  const patched = new WeakSet<object>();
  return {
    texts,
    end: () => real.end(),
    pool: {
      async connect() {
        const client = await real.connect();
        if (!patched.has(client)) {
          patched.add(client);
          const query = client.query.bind(client) as (config: { text: string }) => Promise<never>;
          (client as unknown as { query: typeof query }).query = (config) => {
            texts.push(config.text);
            return query(config);
          };
        }
        return client;
      },
      end: () => real.end(),
    },
  };
}

/** How long the call takes to reject; fails the test if it resolves. */
async function timeToReject(call: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  const error = await call().then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  return { ms: performance.now() - started, error };
}

describe.runIf(requires(postgres))('postgres tier', () => {
  let pool: pg.Pool;
  const tables = new Set<string>();
  const table = () => {
    const name = randomTable();
    tables.add(name);
    return name;
  };
  const drop = async (...names: string[]) => {
    for (const name of names) {
      await pool.query(`DROP TABLE IF EXISTS "${name}"`);
      tables.delete(name);
    }
  };

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 8 });
  });
  afterAll(async () => {
    // Tables a failed test could not drop itself.
    await drop(...tables);
    await pool.end();
  });

  describeCacheTier<Uint8Array>('postgres (given pool)', vitest, {
    async create() {
      const [main, other] = [table(), table()];
      const tier = postgresTier({ pool, table: main });
      const sibling = postgresTier({ pool, table: other });
      return {
        tier,
        sibling,
        async cleanup() {
          await tier.close();
          await sibling.close();
          await drop(main, other);
        },
      };
    },
    payload: bytes,
  });

  describeCacheTier<Uint8Array>('postgres (own pool from a connection string)', vitest, {
    async create() {
      const name = table();
      const tier = postgresTier({ connectionString: POSTGRES_URL, table: name });
      return {
        tier,
        async cleanup() {
          await tier.close();
          await drop(name);
        },
      };
    },
    payload: bytes,
  });

  it('creates the table and its indexes before the first operation, once for concurrent calls', async () => {
    const name = table();
    const recording = recordingPool();
    try {
      const tier = postgresTier({ pool: recording.pool, table: name });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0
            ? tier.set('ns', `k${i}`, bytes(i), meta({ tags: ['t'] }))
            : tier.get('ns', `k${i}`),
        ),
      );
      const creates = recording.texts.filter((text) => text.includes('CREATE TABLE'));
      expect(creates).toHaveLength(1);
      expect(recording.texts.filter((text) => text.includes('to_regclass'))).toHaveLength(1);

      const columns = await pool.query(
        `SELECT column_name, data_type FROM information_schema.columns
         WHERE table_name = $1 ORDER BY ordinal_position`,
        [name],
      );
      expect(columns.rows).toEqual([
        { column_name: 'namespace', data_type: 'text' },
        { column_name: 'key', data_type: 'text' },
        { column_name: 'value', data_type: 'bytea' },
        { column_name: 'tags', data_type: 'ARRAY' },
        { column_name: 'created_at', data_type: 'bigint' },
        { column_name: 'expires_at', data_type: 'bigint' },
        { column_name: 'stale_until', data_type: 'bigint' },
      ]);
      const indexes = await pool.query('SELECT indexdef FROM pg_indexes WHERE tablename = $1', [
        name,
      ]);
      const definitions = indexes.rows.map((row: { indexdef: string }) => row.indexdef).join('\n');
      expect(definitions).toContain('(namespace, key)');
      expect(definitions).toMatch(/btree \(stale_until\)/);
      expect(definitions).toMatch(/gin \(tags\)/);
      expect(await tier.get('ns', 'k0')).toBeDefined();

      // A second tier on the existing table only checks that it is there.
      const before = recording.texts.length;
      const again = postgresTier({ pool: recording.pool, table: name });
      expect(await again.get('ns', 'k0')).toBeDefined();
      expect(recording.texts.slice(before).some((text) => text.includes('CREATE'))).toBe(false);
    } finally {
      await recording.end();
      await drop(name);
    }
  });

  it('tries the creation again at the next call after it failed', async () => {
    const schema = `cache_schema_${randomBytes(6).toString('hex')}`;
    const tier = postgresTier({ pool, table: `${schema}.entries` });
    try {
      // The schema does not exist yet: the creation fails, and so does the call.
      await expect(tier.get('ns', 'k')).rejects.toMatchObject({ code: '3F000' });
      await pool.query(`CREATE SCHEMA "${schema}"`);
      expect(await tier.get('ns', 'k')).toBeUndefined();
      await tier.set('ns', 'k', bytes(1), meta());
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}"."entries"`);
      expect(rows[0].n).toBe(1);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it('creates the table again when it was dropped after its creation', async () => {
    const name = table();
    const tier = postgresTier({ pool, table: name });
    await tier.set('ns', 'k', bytes(1), meta());
    await drop(name);
    tables.add(name);
    const [read, written] = await Promise.all([
      tier.get('ns', 'k'),
      tier.set('ns', 'k2', bytes(2), meta()),
    ]);
    expect(read).toBeUndefined();
    expect(written).toBeUndefined();
    expect(await tier.get('ns', 'k2')).toBeDefined();
    await drop(name);
  });

  it('leaves the table to the application when createTable is false', async () => {
    const tier = postgresTier({ pool, table: table(), createTable: false });
    await expect(tier.get('ns', 'k')).rejects.toMatchObject({ code: '42P01' });
  });

  it('never closes a pool it was given, and refuses calls once closed', async () => {
    const name = table();
    const tier = postgresTier({ pool, table: name });
    await tier.set('ns', 'k', bytes(1), meta());
    await tier.close();
    await tier.close();
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await expect(tier.get('ns', 'k')).rejects.toBeInstanceOf(LifecycleError);
    await drop(name);
  });

  it('closes the pool it created from a connection string', async () => {
    const name = table();
    const application = `cache_tier_${randomBytes(4).toString('hex')}`;
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('application_name', application);
    const tier = postgresTier({ connectionString: url.toString(), table: name });
    await tier.set('ns', 'k', bytes(1), meta());
    const connections = async () =>
      (
        await pool.query(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
          [application],
        )
      ).rows[0].n as number;
    expect(await connections()).toBeGreaterThan(0);
    await tier.close();
    await tier.close();
    await vi.waitFor(async () => expect(await connections()).toBe(0), { timeout: 5_000 });
    await drop(name);
  });

  it('rejects an invalid table name and invalid options with InvalidArgumentError', () => {
    for (const bad of [
      '',
      'drop table x; --',
      '1cache',
      'a.b.c',
      'cache-entries',
      '"quoted"',
      'x'.repeat(64),
      '.cache',
      'cache.',
      42,
      null,
    ]) {
      expect(() => postgresTier({ pool, table: bad as string }), String(bad)).toThrow(
        InvalidArgumentError,
      );
    }
    for (const good of ['cache', '_c', 'Public_1.Cache_2', 'x'.repeat(63)]) {
      expect(postgresTier({ pool, table: good })).toBeInstanceOf(PostgresTier);
    }
    expect(() => postgresTier({ pool, connectionString: POSTGRES_URL })).toThrow(
      InvalidArgumentError,
    );
    expect(() => postgresTier({ pool, timeoutMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => postgresTier({ pool: {} as PostgresPoolLike })).toThrow(InvalidArgumentError);
  });

  describe('when the database cannot answer', () => {
    const closedPort = 'postgres://postgres@127.0.0.1:1/test';

    it('rejects get and set quickly when nothing listens on the port (own pool)', async () => {
      const tier = postgresTier({ connectionString: closedPort, table: 'never_created' });
      try {
        for (const call of [
          () => tier.get('ns', 'k'),
          () => tier.set('ns', 'k', bytes(1), meta()),
        ]) {
          const { ms, error } = await timeToReject(call);
          expect(error).toBeInstanceOf(Error);
          expect(ms).toBeLessThan(5_000);
        }
      } finally {
        await tier.close();
      }
    });

    it('rejects get and set quickly when nothing listens on the port (given pool)', async () => {
      const unreachable = new pg.Pool({ connectionString: closedPort });
      const tier = postgresTier({ pool: unreachable, table: 'never_created' });
      try {
        for (const call of [
          () => tier.get('ns', 'k'),
          () => tier.set('ns', 'k', bytes(1), meta()),
        ]) {
          const { ms, error } = await timeToReject(call);
          expect(error).toBeInstanceOf(Error);
          expect(ms).toBeLessThan(5_000);
        }
      } finally {
        await tier.close();
        await unreachable.end();
      }
    });

    it('rejects within timeoutMs when the server accepts connections but never answers', async () => {
      const sockets = new Set<Socket>();
      const silent = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => {});
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as { port: number };
      const url = `postgres://postgres@127.0.0.1:${port}/test`;
      // A given pool with pg's defaults waits for a connection without limit: the tier's own
      // deadline must still end the call.
      const given = new pg.Pool({ connectionString: url });
      given.on('error', () => {});
      const tiers = [
        postgresTier({ connectionString: url, table: 'never_created', timeoutMs: 300 }),
        postgresTier({ pool: given, table: 'never_created', timeoutMs: 300 }),
      ];
      try {
        for (const tier of tiers) {
          for (const call of [
            () => tier.get('ns', 'k'),
            () => tier.set('ns', 'k', bytes(1), meta()),
          ]) {
            const { ms, error } = await timeToReject(call);
            expect(error).toBeInstanceOf(Error);
            expect(ms).toBeGreaterThanOrEqual(250);
            expect(ms).toBeLessThan(5_000);
          }
        }
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
        for (const tier of tiers) await tier.close();
        await given.end().catch(() => {});
      }
    });

    it('rejects within timeoutMs when a statement stalls behind a lock', async () => {
      const name = table();
      await postgresTier({ pool, table: name }).set('ns', 'k', bytes(1), meta());
      const own = postgresTier({ connectionString: POSTGRES_URL, table: name, timeoutMs: 300 });
      const borrowing = postgresTier({ pool, table: name, timeoutMs: 300 });
      const holder = await pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`LOCK TABLE "${name}" IN ACCESS EXCLUSIVE MODE`);
        for (const call of [
          () => own.get('ns', 'k'),
          () => own.set('ns', 'k', bytes(2), meta()),
          () => borrowing.get('ns', 'k'),
          // Another key: without a statement_timeout on the given pool, the server runs this write
          // once the lock goes, although the call was rejected (see PostgresTierOptions.pool).
          () => borrowing.set('ns', 'other', bytes(3), meta()),
        ]) {
          const { ms, error } = await timeToReject(call);
          expect(error).toBeInstanceOf(Error);
          expect(ms).toBeGreaterThanOrEqual(250);
          expect(ms).toBeLessThan(5_000);
        }
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
      // The server cancelled the own pool's write: it is not applied after the lock goes, and
      // both tiers answer again.
      await sleep(100);
      for (const tier of [own, borrowing]) {
        expect((await tier.get('ns', 'k'))?.payload).toEqual(Buffer.from(bytes(1)));
        await tier.close();
      }
      await drop(name);
    });
  });

  it('removes a backlog of 25,000 expired rows in batches and keeps live ones', async () => {
    const name = table();
    const recording = recordingPool();
    try {
      const tier = postgresTier({ pool: recording.pool, table: name });
      await tier.set('ns', 'live', bytes(1), meta({ tags: ['t'] }));
      const past = Date.now() - 10_000;
      await pool.query(
        `INSERT INTO "${name}" (namespace, key, value, tags, created_at, expires_at, stale_until)
         SELECT 'ns', '=old' || i, '\\x00'::bytea, ARRAY['t'], $1, $1, $1
         FROM generate_series(1, 25000) AS i`,
        [past],
      );
      expect(await tier.removeExpired()).toBe(25_000);
      const batches = recording.texts.filter((text) => text.includes('ctid'));
      expect(batches).toHaveLength(3);
      const { rows } = await pool.query(`SELECT key FROM "${name}"`);
      expect(rows).toEqual([{ key: '=live' }]);
      expect(await tier.removeExpired()).toBe(0);
    } finally {
      await recording.end();
      await drop(name);
    }
  });

  it('deletes by tag and clears more rows than one batch holds', async () => {
    const name = table();
    const tier = postgresTier({ pool, table: name });
    await tier.set('keep', 'k', bytes(1), meta({ tags: ['t'] }));
    const later = Date.now() + 600_000;
    await pool.query(
      `INSERT INTO "${name}" (namespace, key, value, tags, created_at, expires_at, stale_until)
       SELECT ns, '=k' || i, '\\x00'::bytea, ARRAY['t', 'u'], $1, $1, $1
       FROM generate_series(1, 12000) AS i, unnest(ARRAY['a', 'b']) AS ns`,
      [later],
    );
    expect(await tier.deleteByTags(['t'], 'a')).toBe(12_000);
    await tier.clear('b');
    const { rows } = await pool.query(`SELECT namespace, key FROM "${name}"`);
    expect(rows).toEqual([{ namespace: 'keep', key: '=k' }]);
    await tier.close();
    await drop(name);
  });

  it('round-trips every byte value, empty payloads and views into larger buffers', async () => {
    const name = table();
    const tier = postgresTier({ pool, table: name });
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const backing = new Uint8Array(300).fill(7);
    backing.set(all.subarray(10, 50), 100);
    const view = backing.subarray(100, 140);
    await tier.set('ns', 'all', all, meta());
    await tier.set('ns', 'empty', new Uint8Array(0), meta());
    await tier.set('ns', 'view', view, meta());
    expect(Buffer.from((await tier.get('ns', 'all'))!.payload).equals(Buffer.from(all))).toBe(true);
    expect((await tier.get('ns', 'empty'))!.payload.byteLength).toBe(0);
    expect(Buffer.from((await tier.get('ns', 'view'))!.payload)).toEqual(
      Buffer.from(all.subarray(10, 50)),
    );
    await tier.close();
    await drop(name);
  });

  it("judges staleness by the application's clock, not the database's", async () => {
    const name = table();
    const tier = postgresTier({ pool, table: name });
    const now = Date.now();
    await tier.set('ns', 'k', bytes(1), meta({ staleUntil: now + 60_000 }));
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      expect(await tier.get('ns', 'k')).toBeUndefined();
    } finally {
      clock.mockRestore();
    }
    expect(await tier.get('ns', 'k')).toBeDefined();
    await tier.close();
    await drop(name);
  });

  it('keeps keys apart that SQL text cannot hold as they are, and hashes long keys', async () => {
    const name = table();
    const tier = postgresTier({ pool, table: name });
    const keys = ['\uD800', '\uD801', 'a\u0000b', 'a\u0000c', '\uFFFD', 'x'.repeat(201)];
    for (const [i, key] of keys.entries()) await tier.set('ns', key, bytes(i), meta());
    for (const [i, key] of keys.entries()) {
      expect(Buffer.from((await tier.get('ns', key))!.payload), JSON.stringify(key)).toEqual(
        Buffer.from(bytes(i)),
      );
    }
    const { rows } = await pool.query(`SELECT key FROM "${name}"`);
    expect(rows.every((row: { key: string }) => row.key.length <= 201)).toBe(true);
    await tier.close();
    await drop(name);
  });

  it('keeps an entry that never goes stale', async () => {
    const name = table();
    const tier = postgresTier({ pool, table: name });
    await tier.set(
      'ns',
      'k',
      bytes(1),
      meta({ expiresAt: Number.POSITIVE_INFINITY, staleUntil: Number.POSITIVE_INFINITY }),
    );
    expect(await tier.get('ns', 'k')).toMatchObject({
      expiresAt: Number.POSITIVE_INFINITY,
      staleUntil: Number.POSITIVE_INFINITY,
    });
    expect(await tier.removeExpired()).toBe(0);
    await tier.close();
    await drop(name);
  });
});
