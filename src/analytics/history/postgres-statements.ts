import { describeValue, InvalidArgumentError } from '../../core/errors.js';

// The SQL of the PostgreSQL history store (private to postgres-store.ts). Three tables:
//   <table>          one row per series, resolution ('m' minute, 'h' hour) and start: the counts,
//                    and the histogram buckets as a JSON object {"<index>": count}
//   <table>_series   one row per series with its labels and the last minute written
//   <table>_writes   the ids of the rollups written, so a retried write counts once

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Rows deleted per statement by the retention. */
export const DELETE_BATCH = 10_000;

/** @internal The validated table: `schema.table` or `table`, quoted for SQL text. */
export interface HistoryTables {
  table: string;
  series: string;
  writes: string;
  /** Prefix of the indexes' names (unquoted). */
  indexPrefix: string;
  /** The schema to create when one is named. */
  schema: string | undefined;
}

/**
 * @internal Validates `value` as `table` or `schema.table` (letters, digits and `_`; the table at
 * most 48 characters so that the names derived from it stay within PostgreSQL's 63). Table names
 * cannot be bound as parameters: this check is what keeps them out of injection's way.
 */
export function historyTables(value: unknown): HistoryTables {
  const parts = typeof value === 'string' ? value.split('.') : [];
  const valid =
    parts.length >= 1 &&
    parts.length <= 2 &&
    parts.every((part) => IDENTIFIER.test(part) && part.length <= 63) &&
    parts.at(-1)!.length <= 48;
  if (!valid) {
    const expected =
      'a table name of letters, digits and "_" (at most 48 characters), optionally "schema.table"';
    throw new InvalidArgumentError(
      `table=${describeValue(value)} is not a valid table name: expected ${expected}`,
      { argument: 'table', value, expected },
    );
  }
  const name = parts.at(-1)!;
  const schema = parts.length === 2 ? parts[0] : undefined;
  const qualify = (table: string) =>
    schema === undefined ? `"${table}"` : `"${schema}"."${table}"`;
  return {
    table: qualify(name),
    series: qualify(`${name}_series`),
    writes: qualify(`${name}_writes`),
    indexPrefix: name,
    schema,
  };
}

/** @internal The statements of one set of tables. */
export function historyStatements(t: HistoryTables) {
  return {
    /** One row, `present`: whether the three tables exist. */
    exists: `SELECT to_regclass('${t.table}') IS NOT NULL AND to_regclass('${t.series}') IS NOT NULL
      AND to_regclass('${t.writes}') IS NOT NULL AS present`,
    /**
     * Creation is serialized between processes by a session advisory lock on the table's name, and
     * runs only while the tables are missing: DDL on tables other processes are writing to could
     * deadlock with them. A session lock, so that the check after it runs in a transaction of its
     * own, which sees what the previous holder committed (a transaction that waited for an advisory
     * lock still has the catalog caches of before the wait).
     */
    lock: `SELECT pg_advisory_lock(hashtext('${t.table}'))`,
    unlock: `SELECT pg_advisory_unlock(hashtext('${t.table}'))`,
    create: [
      ...(t.schema === undefined ? [] : [`CREATE SCHEMA IF NOT EXISTS "${t.schema}"`]),
      `CREATE TABLE IF NOT EXISTS ${t.table} (
        kind char(1) NOT NULL,
        name text NOT NULL,
        resolution char(1) NOT NULL,
        label_set text NOT NULL,
        at bigint NOT NULL,
        count bigint NOT NULL DEFAULT 0,
        errors bigint NOT NULL DEFAULT 0,
        slow bigint NOT NULL DEFAULT 0,
        sum double precision NOT NULL DEFAULT 0,
        min double precision,
        max double precision,
        buckets jsonb,
        PRIMARY KEY (kind, name, resolution, label_set, at)
      )`,
      `CREATE INDEX IF NOT EXISTS "${t.indexPrefix}_resolution_at" ON ${t.table} (resolution, at)`,
      `CREATE TABLE IF NOT EXISTS ${t.series} (
        kind char(1) NOT NULL,
        name text NOT NULL,
        label_set text NOT NULL,
        labels jsonb NOT NULL,
        last_at bigint NOT NULL,
        PRIMARY KEY (kind, name, label_set)
      )`,
      `CREATE TABLE IF NOT EXISTS ${t.writes} (id text PRIMARY KEY, at bigint NOT NULL)`,
      `CREATE INDEX IF NOT EXISTS "${t.indexPrefix}_writes_at" ON ${t.writes} (at)`,
    ],
    /** $1 id, $2 minute: one row when the rollup is new, none when it was written before. */
    mark: `INSERT INTO ${t.writes} (id, at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
    /** $1 JSON array of series rows. */
    upsertSeries: `INSERT INTO ${t.series} AS cur (kind, name, label_set, labels, last_at)
      SELECT kind, name, label_set, labels, last_at
      FROM jsonb_to_recordset($1::jsonb) AS r(kind text, name text, label_set text, labels jsonb, last_at bigint)
      ORDER BY kind, name, label_set
      ON CONFLICT (kind, name, label_set) DO UPDATE SET last_at = GREATEST(cur.last_at, excluded.last_at)`,
    /**
     * $1 JSON array of rollup rows. Rows in a fixed order, so that two instances adding to the same
     * hours lock them in the same order and cannot deadlock; buckets are added key by key.
     */
    upsertRows: `INSERT INTO ${t.table} AS cur
        (kind, name, resolution, label_set, at, count, errors, slow, sum, min, max, buckets)
      SELECT kind, name, resolution, label_set, at, count, errors, slow, sum, min, max, buckets
      FROM jsonb_to_recordset($1::jsonb) AS r(kind text, name text, resolution text, label_set text,
        at bigint, count bigint, errors bigint, slow bigint, sum double precision,
        min double precision, max double precision, buckets jsonb)
      ORDER BY kind, name, resolution, label_set, at
      ON CONFLICT (kind, name, resolution, label_set, at) DO UPDATE SET
        count = cur.count + excluded.count,
        errors = cur.errors + excluded.errors,
        slow = cur.slow + excluded.slow,
        sum = cur.sum + excluded.sum,
        min = LEAST(cur.min, excluded.min),
        max = GREATEST(cur.max, excluded.max),
        buckets = CASE
          WHEN cur.buckets IS NULL THEN excluded.buckets
          WHEN excluded.buckets IS NULL THEN cur.buckets
          ELSE (SELECT jsonb_object_agg(k, total) FROM (
            SELECT k, sum(v::bigint) AS total FROM (
              SELECT key, value FROM jsonb_each_text(cur.buckets)
              UNION ALL SELECT key, value FROM jsonb_each_text(excluded.buckets)
            ) AS parts(k, v) GROUP BY k
          ) AS merged)
        END`,
    /** $1 kind, $2 name, $3 oldest last_at kept. */
    labelSets: `SELECT label_set, labels FROM ${t.series}
      WHERE kind = $1 AND name = $2 AND last_at >= $3`,
    /** $1 kind, $2 name, $3 resolution, $4 label set ids, $5 from, $6 to. */
    rows: `SELECT at, count, errors, slow, sum, min, max, buckets FROM ${t.table}
      WHERE kind = $1 AND name = $2 AND resolution = $3 AND label_set = ANY($4::text[])
        AND at >= $5 AND at < $6`,
    /** $1 oldest last_at kept. */
    allSeries: `SELECT kind, name, labels FROM ${t.series} WHERE last_at >= $1`,
    /** $1 resolution, $2 the first start kept. */
    deleteRows: `DELETE FROM ${t.table} WHERE ctid IN (
      SELECT ctid FROM ${t.table} WHERE resolution = $1 AND at < $2 LIMIT ${DELETE_BATCH})`,
    /** $1 the first minute kept. */
    deleteWrites: `DELETE FROM ${t.writes} WHERE ctid IN (
      SELECT ctid FROM ${t.writes} WHERE at < $1 LIMIT ${DELETE_BATCH})`,
    /** $1 the first hour kept. */
    deleteSeries: `DELETE FROM ${t.series} WHERE last_at < $1`,
  };
}

/** @internal The statements, as {@link historyStatements} builds them. */
export type HistoryStatements = ReturnType<typeof historyStatements>;
