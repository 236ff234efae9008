import { createHash } from 'node:crypto';
import { DELETE_BATCH_SIZE, derivedName, quote, type TableName } from './sql-common.js';

// The PostgreSQL tier's SQL: creating its table, reading and writing entries, batched deletes.

/** @internal The SQL of the PostgreSQL tier's statements (see {@link postgresStatements}). */
export type PostgresStatements = ReturnType<typeof postgresStatements>;

/**
 * @internal The SQL of one table, built once: the table name is validated, the values are
 * parameters.
 */
export function postgresStatements(table: TableName) {
  const t = table.qualified;
  const columns = 'value, tags, created_at, expires_at, stale_until';
  // A transaction-scoped advisory lock serializes the creation across processes: two instances
  // starting at once could otherwise both run CREATE TABLE IF NOT EXISTS and one would fail on the
  // catalog's unique index. Its key is derived from the table name; it is a literal because a
  // multi-statement query (one round trip) cannot take parameters.
  const lockKey = createHash('sha256')
    .update(`@revcopy/enterprise:${t}`)
    .digest()
    .readBigInt64BE(0);
  // Deletes that may match many rows run in bounded batches, each its own statement and
  // transaction, so that none holds many row locks, bloats one transaction or runs into the
  // statement timeout. The batch picks physical row ids (the DELETE is a TID scan, no join) and
  // reports how many it picked, so the caller knows whether more may remain even when a row was
  // changed meanwhile and not deleted: the condition is checked again on the current version, so
  // an entry a concurrent set refreshed is left alone.
  const batch = (condition: string, lock = '') => `WITH batch AS MATERIALIZED (
      SELECT ctid FROM ${t} WHERE ${condition} LIMIT ${DELETE_BATCH_SIZE} ${lock}
    ), gone AS (
      DELETE FROM ${t} WHERE ctid = ANY(ARRAY(SELECT ctid FROM batch)) AND ${condition} RETURNING 1
    )
    SELECT (SELECT count(*) FROM batch)::int AS picked, (SELECT count(*) FROM gone)::int AS deleted`;
  return {
    exists: 'SELECT to_regclass($1) IS NOT NULL AS present',
    create: [
      'BEGIN',
      `SELECT pg_advisory_xact_lock(${lockKey})`,
      `CREATE TABLE IF NOT EXISTS ${t} (
        namespace text NOT NULL,
        key text NOT NULL,
        value bytea NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        stale_until bigint NOT NULL,
        PRIMARY KEY (namespace, key)
      )`,
      `CREATE INDEX IF NOT EXISTS ${quote(derivedName(table.name, 'stale_until_idx'))} ON ${t} (stale_until)`,
      `CREATE INDEX IF NOT EXISTS ${quote(derivedName(table.name, 'tags_idx'))} ON ${t} USING gin (tags)`,
      'COMMIT',
    ].join(';\n'),
    get: `SELECT ${columns} FROM ${t} WHERE namespace = $1 AND key = $2 AND stale_until > $3`,
    set: `INSERT INTO ${t} (namespace, key, ${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, tags = EXCLUDED.tags,
        created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
        stale_until = EXCLUDED.stale_until`,
    delete: `DELETE FROM ${t} WHERE namespace = $1 AND key = $2`,
    // Every column get returns: the row is deleted only if none of them changed.
    deleteIfUnchanged: `DELETE FROM ${t} WHERE namespace = $1 AND key = $2 AND value = $3
      AND tags = $4::text[] AND created_at = $5 AND expires_at = $6 AND stale_until = $7`,
    deleteByTags: batch('tags && $1::text[]'),
    deleteByTagsIn: batch('tags && $1::text[] AND namespace = $2'),
    clear: batch('true'),
    clearIn: batch('namespace = $1'),
    // SKIP LOCKED lets several instances clean at once without queueing behind each other.
    removeExpired: batch('stale_until <= $1', 'FOR UPDATE SKIP LOCKED'),
  };
}
