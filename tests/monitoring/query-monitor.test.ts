import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configure } from '../../src/index.js';
import {
  createMonitoringRouter,
  instrumentPg,
  monitorQuery,
  sqlFingerprint,
} from '../../src/monitoring/index.js';
import { POSTGRES_URL, postgres, requires } from '../support/requirements.js';
import { AUTH, call, json, silent, TOKEN, testEnterprise } from './helpers.js';

describe('sqlFingerprint', () => {
  it.each([
    [
      "SELECT * FROM users WHERE id = 42 AND name = 'bob'",
      'SELECT * FROM users WHERE id = ? AND name = ?',
    ],
    ['select  *\n\tfrom t1\nwhere a=$1 and b = 3.5e10 ;', 'select * from t1 where a=? and b = ?'],
    ['SELECT * FROM t WHERE id IN (1, 2, 3)', 'SELECT * FROM t WHERE id IN (?)'],
    ['SELECT * FROM t WHERE id IN ($1,$2,$3,$4)', 'SELECT * FROM t WHERE id IN (?)'],
    ['SELECT * FROM t WHERE id IN ( 7 )', 'SELECT * FROM t WHERE id IN (?)'],
    ["INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", 'INSERT INTO t (a, b) VALUES (?)'],
    ["SELECT 'it''s', E'a\\'b', $$x 'y'$$, $q$z$q$", 'SELECT ?, ?, ?, ?'],
    [
      'SELECT "Col1", t2.col3 FROM "T2" t2 -- trailing\nLIMIT 10',
      'SELECT "Col1", t2.col3 FROM "T2" t2 LIMIT ?',
    ],
    ['/* a /* nested */ comment */ SELECT 1', 'SELECT ?'],
    ['SELECT * FROM t WHERE x = ANY(ARRAY[1, 2, 3])', 'SELECT * FROM t WHERE x = ANY(ARRAY[?])'],
  ])('%s', (sql, expected) => {
    expect(sqlFingerprint(sql)).toBe(expected);
  });

  it('keeps long statements apart with a hash', () => {
    const a = `SELECT ${'a, '.repeat(200)}b FROM t`;
    const b = `SELECT ${'a, '.repeat(200)}c FROM t`;
    expect(sqlFingerprint(a).length).toBeLessThanOrEqual(300);
    expect(sqlFingerprint(a)).not.toBe(sqlFingerprint(b));
  });
});

describe('monitorQuery', () => {
  it('times sync, async, throwing and rejecting calls and returns their results', async () => {
    const enterprise = testEnterprise();
    expect(monitorQuery('SELECT 1', () => 1, { enterprise })).toBe(1);
    expect(await monitorQuery('SELECT 2', async () => 2, { enterprise })).toBe(2);
    expect(() =>
      monitorQuery(
        'SELECT 3',
        () => {
          throw new Error('sync');
        },
        { enterprise },
      ),
    ).toThrow('sync');
    await expect(
      monitorQuery('SELECT 4', () => Promise.reject(new Error('async')), { enterprise }),
    ).rejects.toThrow('async');
    const stats = enterprise.performance.getStats('db.query', { statement: 'SELECT ?' });
    expect(stats?.windows.all).toMatchObject({ count: 4, errors: 2 });
    await enterprise.shutdown();
  });

  it('records on the default instance when none is given', async () => {
    const enterprise = configure({ logger: silent, env: {} });
    await monitorQuery('SELECT now()', async () => 'x');
    expect(enterprise.performance.getStats('db.query')?.windows.all.count).toBe(1);
    await enterprise.shutdown();
  });

  it('rejects bad arguments', () => {
    expect(() => monitorQuery(1 as unknown as string, () => 1)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    );
    expect(() => instrumentPg({} as never)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    );
  });
});

describe.skipIf(!requires(postgres))('instrumentPg against PostgreSQL', () => {
  const table = `mon_q_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let admin: pg.Pool;

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text)`);
  });
  afterAll(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  const pools: pg.Pool[] = [];
  afterEach(async () => {
    for (const pool of pools.splice(0)) await pool.end();
  });

  it('times pool queries in promise and callback forms, by fingerprint, once each', async () => {
    const enterprise = testEnterprise();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    pools.push(pool);
    // A client connected before instrumenting is covered too.
    const early = await pool.connect();
    early.release();
    expect(instrumentPg(pool, { enterprise })).toBe(pool);
    instrumentPg(pool, { enterprise }); // a second call changes nothing

    for (const id of [1, 2, 3]) {
      await pool.query(`INSERT INTO ${table} (id, name) VALUES ($1, $2)`, [id, `n${id}`]);
    }
    const rows = await pool.query(`SELECT name FROM ${table} WHERE id IN (1, 2)`);
    expect(rows.rowCount).toBe(2);
    await new Promise<void>((resolve, reject) => {
      pool.query(
        `SELECT name FROM ${table} WHERE id = 3`,
        (error: Error | null, result: pg.QueryResult) => {
          if (error) reject(error);
          else {
            expect(result.rows[0].name).toBe('n3');
            resolve();
          }
        },
      );
    });
    await expect(pool.query('SELECT * FROM missing_table_xyz')).rejects.toThrow();
    // A client checked out of the pool, promise and callback forms.
    const client = await pool.connect();
    await client.query({ text: `SELECT name FROM ${table} WHERE id = $1`, values: [1] });
    await new Promise<void>((resolve) => {
      client.query(`SELECT name FROM ${table} WHERE id = 99`, () => resolve());
    });
    client.release();

    const router = createMonitoringRouter({ enterprise, auth: TOKEN });
    const body = await json(
      await call(router, '/database/performance?window=all', { headers: AUTH }),
    );
    const by = Object.fromEntries(
      body.statements.map((s: { statement: string }) => [s.statement, s]),
    );
    expect(by[`INSERT INTO ${table} (id, name) VALUES (?)`]).toMatchObject({ count: 3, errors: 0 });
    expect(by[`SELECT name FROM ${table} WHERE id IN (?)`]).toMatchObject({ count: 1 });
    expect(by[`SELECT name FROM ${table} WHERE id = ?`]).toMatchObject({ count: 3, errors: 0 });
    expect(by['SELECT * FROM missing_table_xyz']).toMatchObject({ count: 1, errors: 1 });
    expect(by[`SELECT name FROM ${table} WHERE id = ?`].p95).toBeGreaterThan(0);
    expect(body.slowest.length).toBe(8);
    for (const entry of body.slowest) expect(entry.statement).not.toMatch(/'n\d'|\b99\b/);
    // The same figures reach Prometheus.
    const metrics = await (await call(router, '/metrics', { headers: AUTH })).text();
    expect(metrics).toContain('operation="db.query"');
    await router.close();
    await enterprise.shutdown();
  });

  it('times a single pg.Client', async () => {
    const enterprise = testEnterprise();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      instrumentPg(client, { enterprise });
      const result = await client.query('SELECT $1::int + 1 AS n', [41]);
      expect(result.rows[0].n).toBe(42);
      // A submittable (what streams and cursors are) passes through untouched and untimed.
      const submitted = new pg.Query('SELECT 7 AS n');
      expect(client.query(submitted)).toBe(submitted);
      const rows: unknown[] = [];
      submitted.on('row', (row: unknown) => rows.push(row));
      await new Promise((resolve) => submitted.on('end', resolve));
      expect(rows).toEqual([{ n: 7 }]);
      expect(
        enterprise.performance.getStats('db.query', { statement: 'SELECT ? AS n' }),
      ).toBeUndefined();
      expect(
        enterprise.performance.getStats('db.query', { statement: 'SELECT ?::int + ? AS n' })
          ?.windows.all.count,
      ).toBe(1);
    } finally {
      await client.end();
      await enterprise.shutdown();
    }
  });
});
