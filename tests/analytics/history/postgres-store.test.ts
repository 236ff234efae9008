// The HistoryStore conformance suite against the PostgreSQL store, and what is particular to it:
// its tables, the rows the retention deletes, concurrent writers, a missing `pg`.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresHistoryStore } from '../../../src/analytics/history/index.js';
import { operationRollup } from '../../../src/testing/history-store.js';
import { describeHistoryStore } from '../../../src/testing/index.js';
import { POSTGRES_URL, postgres, requires } from '../../support/requirements.js';

const randomSchema = () => `history_test_${randomBytes(6).toString('hex')}`;

describe.runIf(requires(postgres))('postgres history store', () => {
  let admin: pg.Pool;
  const schemas = new Set<string>();
  const schema = () => {
    const name = randomSchema();
    schemas.add(name);
    return name;
  };
  const drop = async (name: string) => {
    await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    schemas.delete(name);
  };

  beforeAll(() => {
    admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
  });
  afterAll(async () => {
    // Schemas a failed test could not drop itself.
    for (const name of [...schemas]) await drop(name);
    await admin.end();
  });

  describeHistoryStore('postgres', vitest, {
    create(options) {
      const table = `${schema()}.history`;
      // Two pools on one table, as two processes of a deployment have.
      const store = new PostgresHistoryStore({ connectionString: POSTGRES_URL, table, ...options });
      const second = new PostgresHistoryStore({
        connectionString: POSTGRES_URL,
        table,
        ...options,
      });
      return { store, second, cleanup: () => drop(table.split('.')[0]!) };
    },
  });

  const minute = () => Math.floor(Date.now() / 60_000) * 60_000;

  it('creates its three tables, and deletes the rows past the retention on prune()', async () => {
    const name = schema();
    const store = new PostgresHistoryStore({
      connectionString: POSTGRES_URL,
      table: `${name}.history`,
      retention: { minutes: '1h', hours: '2h' },
    });
    try {
      const now = minute();
      const write = (id: string, at: number) =>
        store.write({ id, at, operations: [operationRollup('op', {}, [1])], metrics: [] });
      await write('a', now - 60_000);
      const { rows: tables } = await admin.query(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
        [name],
      );
      expect(tables.map((row) => row.table_name)).toEqual([
        'history',
        'history_series',
        'history_writes',
      ]);
      // Rows written while they were still kept, then left behind by time: moved back here.
      await admin.query(`UPDATE "${name}".history SET at = at - $1`, [3 * 3_600_000]);
      await admin.query(`UPDATE "${name}".history_writes SET at = at - $1`, [3 * 3_600_000]);
      await admin.query(`UPDATE "${name}".history_series SET last_at = last_at - $1`, [
        3 * 3_600_000,
      ]);
      await store.prune();
      for (const table of ['history', 'history_series', 'history_writes']) {
        const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${name}".${table}`);
        expect({ table, rows: rows[0].n }).toEqual({ table, rows: 0 });
      }
    } finally {
      await store.close();
      await drop(name);
    }
  });

  it('adds the minutes of concurrent writers into the same hours without losing any', async () => {
    const name = schema();
    const stores = Array.from(
      { length: 4 },
      () => new PostgresHistoryStore({ connectionString: POSTGRES_URL, table: `${name}.history` }),
    );
    try {
      const at = minute() - 60_000;
      const routes = ['/a', '/b', '/c', '/d', '/e'];
      await Promise.all(
        stores.map((store, i) =>
          store.write({
            id: `writer-${i}`,
            at,
            // Each writer lists the label sets in its own order.
            operations: [...routes.slice(i), ...routes.slice(0, i)].map((route) =>
              operationRollup('http', { route }, [1, 2, 3]),
            ),
            metrics: [],
          }),
        ),
      );
      const query = { operation: 'http', from: at, to: at + 60_000 };
      const minutes = await stores[0]!.query({ ...query, step: 60 });
      const hours = await stores[0]!.query({ ...query, step: '1h' });
      expect(minutes.points[0]!.count).toBe(4 * 5 * 3);
      expect(hours.points[0]!.count).toBe(4 * 5 * 3);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await drop(name);
    }
  });

  it('borrows a pool without closing it, and refuses bad options naming them', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    const name = schema();
    const store = new PostgresHistoryStore({ pool, table: `${name}.history` });
    await store.write({ id: 'p', at: minute(), operations: [], metrics: [] });
    await store.close();
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await pool.end();
    await drop(name);
    expect(() => new PostgresHistoryStore({ table: 'a.b.c' })).toThrow(/table=/);
    expect(() => new PostgresHistoryStore({ table: 'x; DROP TABLE y' })).toThrow(/table=/);
    expect(() => new PostgresHistoryStore({ pool, connectionString: POSTGRES_URL })).toThrow(
      /pool/,
    );
    expect(() => new PostgresHistoryStore({ timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('rejects within its timeout with a HistoryStoreError when the database is unreachable', async () => {
    const store = new PostgresHistoryStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      timeoutMs: 300,
    });
    try {
      const error = await store
        .query({ operation: 'op', from: Date.now() - 600_000, to: Date.now(), step: 60 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'E_HISTORY_STORE',
        context: { store: 'postgres', operation: 'query' },
      });
    } finally {
      await store.close();
    }
  });
});
