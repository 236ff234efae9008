import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise, type MaintenanceOptions } from '../../src/index.js';
import { closedPort, silent } from '../monitoring/helpers.js';
import { POSTGRES_URL, postgres, requires } from '../support/requirements.js';

const instances: Enterprise[] = [];
afterEach(async () => {
  for (const enterprise of instances.splice(0)) await enterprise.shutdown();
});

function maintenance(options: MaintenanceOptions) {
  const enterprise = createEnterprise({ logger: silent, env: {}, alerts: false });
  instances.push(enterprise);
  return enterprise.maintenance.enable(options);
}

describe.runIf(requires(postgres))('maintenance on PostgreSQL', () => {
  let pool: pg.Pool;
  const schema = `maint_${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 6 });
    await pool.query(`CREATE SCHEMA ${schema}`);
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await pool.end();
  });

  /** Sends this session's pending statistics now (PostgreSQL 15 flushes them lazily). */
  async function flushStats(client: pg.PoolClient) {
    await client.query('SELECT pg_stat_force_next_flush()');
    await client.query('SELECT 1');
  }

  async function stats(table: string) {
    const { rows } = await pool.query(
      `SELECT n_dead_tup::int AS dead, last_vacuum, last_analyze FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2`,
      [schema, table],
    );
    return rows[0] as { dead: number; last_vacuum: Date | null; last_analyze: Date | null };
  }

  it('vacuums the table whose dead tuples passed the threshold and leaves a fresh one alone', async () => {
    const client = await pool.connect();
    try {
      for (const table of ['churned', 'fresh']) {
        await client.query(
          `CREATE TABLE ${schema}.${table} (id int PRIMARY KEY, body text) WITH (autovacuum_enabled = false)`,
        );
      }
      await client.query(
        `INSERT INTO ${schema}.churned SELECT g, repeat('x', 50) FROM generate_series(1, 20000) g`,
      );
      await client.query(
        `INSERT INTO ${schema}.fresh SELECT g, 'y' FROM generate_series(1, 200) g`,
      );
      await client.query(`ANALYZE ${schema}.churned`);
      await client.query(`ANALYZE ${schema}.fresh`);
      await client.query(`CREATE INDEX fresh_body_a ON ${schema}.fresh (body)`);
      await client.query(`CREATE INDEX fresh_body_b ON ${schema}.fresh (body)`);
      await client.query(`DELETE FROM ${schema}.churned WHERE id <= 15000`);
      await flushStats(client);
    } finally {
      client.release();
    }
    expect((await stats('churned')).dead).toBe(15000);
    const freshBefore = await stats('fresh');

    const tasks = maintenance({
      database: { postgres: pool },
      optimize_database: { schemas: [schema], lockTimeout: '2s' },
    });
    const dry = await tasks.run('optimize_database', { dryRun: true });
    expect(dry.ok, dry.error?.message).toBe(true);
    expect(dry.done).toMatchObject({ vacuumed: 0, analyzed: 0 });
    expect((await stats('churned')).last_vacuum).toBeNull();

    const result = await tasks.run('optimize_database');
    expect(result.ok, result.error?.message).toBe(true);
    expect(result.done).toMatchObject({ vacuumed: 1, analyzed: 0, skipped: 0 });
    const report = result.details?.postgres as Record<string, any>;
    // n_live_tup is PostgreSQL's estimate: only the dead tuples are exact here.
    expect(report.vacuum).toEqual([
      expect.objectContaining({ table: `${schema}.churned`, dead: 15000 }),
    ]);
    expect(report.duplicateIndexes).toEqual([
      expect.objectContaining({
        table: `${schema}.fresh`,
        indexes: ['fresh_body_a', 'fresh_body_b'],
      }),
    ]);
    expect(report.unusedIndexes.map((i: { index: string }) => i.index).sort()).toEqual([
      `${schema}.fresh_body_a`,
      `${schema}.fresh_body_b`,
    ]);
    expect(report.bloat[0].table).toBe(`${schema}.churned`);

    const churned = await stats('churned');
    expect(churned.last_vacuum).not.toBeNull();
    expect(churned.dead).toBe(0);
    const fresh = await stats('fresh');
    expect(fresh.last_vacuum).toBeNull();
    expect(fresh.last_analyze?.getTime()).toBe(freshBefore.last_analyze?.getTime());
  }, 60_000);

  it('deletes old rows in batches with pauses while concurrent inserts go on, keeping what the rule does not match', async () => {
    const table = `${schema}.events`;
    await pool.query(
      `CREATE TABLE ${table} (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, kind text NOT NULL)`,
    );
    await pool.query(
      `INSERT INTO ${table} (created_at, kind) SELECT now() - interval '100 days', CASE WHEN g % 10 = 0 THEN 'keep' ELSE 'view' END FROM generate_series(1, 20000) g`,
    );
    await pool.query(
      `INSERT INTO ${table} (created_at, kind) SELECT now(), 'view' FROM generate_series(1, 500)`,
    );

    let inserting = true;
    let inserted = 0;
    let longestWaitMs = 0;
    const inserts = (async () => {
      while (inserting) {
        const started = performance.now();
        await pool.query(`INSERT INTO ${table} (created_at, kind) VALUES (now(), 'view')`);
        longestWaitMs = Math.max(longestWaitMs, performance.now() - started);
        inserted++;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const tasks = maintenance({
      database: { postgres: pool },
      cleanup_old_content: {
        pause: '10ms',
        rules: [
          {
            table,
            timestampColumn: 'created_at',
            olderThan: '90d',
            where: { kind: 'view' },
            batchSize: 1000,
          },
        ],
      },
    });
    const dry = await tasks.run('cleanup_old_content', { dryRun: true });
    const result = await tasks.run('cleanup_old_content');
    inserting = false;
    await inserts;

    expect(dry.details?.rules).toEqual([{ rule: table, deleted: 0, batches: 0, matching: 18000 }]);
    expect(result.ok, result.error?.message).toBe(true);
    expect(result.done.deleted).toBe(18000);
    expect(result.details?.rules).toEqual([{ rule: table, deleted: 18000, batches: 19 }]);
    const { rows } = await pool.query(
      `SELECT count(*) FILTER (WHERE created_at < now() - interval '90 days' AND kind = 'view')::int AS old_views,
              count(*) FILTER (WHERE kind = 'keep')::int AS kept,
              count(*) FILTER (WHERE created_at > now() - interval '1 day')::int AS recent
       FROM ${table}`,
    );
    expect(rows[0]).toEqual({ old_views: 0, kept: 2000, recent: 500 + inserted });
    expect(inserted).toBeGreaterThan(5);
    // Generous on a loaded machine: a batch of 1,000 rows never holds an insert for long.
    expect(longestWaitMs).toBeLessThan(2_000);
  }, 60_000);

  it('fails and records the failure when the database is down, without throwing', async () => {
    const down = new pg.Pool({
      connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/test`,
      connectionTimeoutMillis: 1_000,
    });
    try {
      const tasks = maintenance({
        database: { postgres: down },
        cleanup_old_content: {
          rules: [{ table: 'events', timestampColumn: 'created_at', olderThan: '1d' }],
        },
      });
      const optimize = await tasks.run('optimize_database');
      const old = await tasks.run('cleanup_old_content');
      expect(optimize.ok).toBe(false);
      expect(old.ok).toBe(false);
      expect(old.error?.message).toMatch(/ECONNREFUSED|connect/);
    } finally {
      await down.end();
    }
  });
});

describe('maintenance on SQLite', () => {
  it('runs PRAGMA optimize, checkpoints the WAL and vacuums free pages incrementally', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maint-sqlite-'));
    const db = new Database(join(dir, 'app.db'));
    try {
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
      const insert = db.prepare('INSERT INTO notes (body) VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 2000; i++) insert.run('z'.repeat(500));
      })();
      db.exec('DELETE FROM notes WHERE id > 100');
      db.pragma('wal_checkpoint(TRUNCATE)');
      const freeBefore = Number(db.pragma('freelist_count', { simple: true }));
      expect(freeBefore).toBeGreaterThan(100);
      db.exec("INSERT INTO notes (body) VALUES ('in the log')");

      const tasks = maintenance({ database: { sqlite: db } });
      const result = await tasks.run('optimize_database');
      expect(result.ok, result.error?.message).toBe(true);
      expect(result.done).toMatchObject({ sqliteOptimized: 1, walCheckpoints: 1 });
      expect(result.done.freedPages).toBeGreaterThan(100);
      expect(Number(db.pragma('freelist_count', { simple: true }))).toBeLessThan(freeBefore);
      expect(result.details?.sqlite).toMatchObject({ journalMode: 'wal' });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
