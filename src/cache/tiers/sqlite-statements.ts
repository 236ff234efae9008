import { DELETE_BATCH_SIZE, derivedName, quote, type TableName } from './sql-common.js';

// The SQLite tier's schema and statements: entries in one table, their tags in a side table kept
// in step by transactions.

/** The part of a better-sqlite3 `Statement` the tier uses. */
export interface SqliteStatementLike {
  run(...params: any[]): { changes: number };
  get(...params: any[]): unknown;
  all(...params: any[]): unknown[];
}

/**
 * The part of a better-sqlite3 `Database` the tier uses (better-sqlite3 12). Pass your
 * `new Database(...)`; the tier's types do not depend on `@types/better-sqlite3`.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * const database: SqliteDatabaseLike = new Database('app.db');
 * ```
 */
export interface SqliteDatabaseLike {
  prepare(source: string): SqliteStatementLike;
  exec(source: string): unknown;
  transaction(fn: (...args: any[]) => any): (...args: any[]) => any;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
  readonly open: boolean;
  readonly memory: boolean;
}

/** @internal A row of the entries table, as `get` reads it. */
export interface EntryRow {
  value: Buffer;
  tags: string;
  created_at: number;
  expires_at: number;
  stale_until: number;
}

interface KeyRow {
  namespace: string;
  key: string;
}

/** @internal The SQLite tier's statements and transactions (see {@link prepareStatements}). */
export type SqliteStatements = ReturnType<typeof prepareStatements>;

/** @internal The tier's prepared statements and transactions, made once per open database. */
export function prepareStatements(db: SqliteDatabaseLike, table: TableName) {
  const t = table.qualified;
  const tags = sideTable(table);
  const columns = 'value, tags, created_at, expires_at, stale_until';
  const statement = {
    get: db.prepare(
      `SELECT ${columns} FROM ${t} WHERE namespace = ? AND key = ? AND stale_until > ?`,
    ),
    upsert: db.prepare(
      `INSERT INTO ${t} (namespace, key, ${columns}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, tags = excluded.tags,
         created_at = excluded.created_at, expires_at = excluded.expires_at,
         stale_until = excluded.stale_until`,
    ),
    insertTag: db.prepare(`INSERT OR IGNORE INTO ${tags} (namespace, key, tag) VALUES (?, ?, ?)`),
    deleteTagsOf: db.prepare(`DELETE FROM ${tags} WHERE namespace = ? AND key = ?`),
    delete: db.prepare(`DELETE FROM ${t} WHERE namespace = ? AND key = ?`),
    // Every column get returns: the row is deleted only if none of them changed.
    deleteIfUnchanged: db.prepare(
      `DELETE FROM ${t} WHERE namespace = ? AND key = ? AND value = ? AND tags = ?
         AND created_at = ? AND expires_at = ? AND stale_until = ?`,
    ),
    // The tags are bound as one JSON array, so one statement serves any number of them.
    deleteByTags: db.prepare(
      `DELETE FROM ${t} WHERE (namespace, key) IN (
         SELECT namespace, key FROM ${tags} WHERE tag IN (SELECT value FROM json_each(?))
       ) RETURNING namespace, key`,
    ),
    deleteByTagsIn: db.prepare(
      `DELETE FROM ${t} WHERE namespace = @namespace AND key IN (
         SELECT key FROM ${tags}
         WHERE namespace = @namespace AND tag IN (SELECT value FROM json_each(@tags))
       ) RETURNING namespace, key`,
    ),
    clearTags: db.prepare(`DELETE FROM ${tags}`),
    clear: db.prepare(`DELETE FROM ${t}`),
    clearTagsIn: db.prepare(`DELETE FROM ${tags} WHERE namespace = ?`),
    clearIn: db.prepare(`DELETE FROM ${t} WHERE namespace = ?`),
    removeExpired: db.prepare(
      `DELETE FROM ${t} WHERE rowid IN (
         SELECT rowid FROM ${t} WHERE stale_until <= ? LIMIT ${DELETE_BATCH_SIZE}
       ) RETURNING namespace, key`,
    ),
  };
  const dropTags = (rows: KeyRow[]) => {
    for (const row of rows) statement.deleteTagsOf.run(row.namespace, row.key);
    return rows.length;
  };
  // Each write that touches both tables is one transaction, so the tag index never disagrees with
  // the entries, even when the process dies between two statements.
  return {
    get: statement.get,
    set: db.transaction(
      (
        namespace: string,
        key: string,
        value: Buffer,
        tagList: readonly string[],
        times: number[],
      ) => {
        statement.deleteTagsOf.run(namespace, key);
        statement.upsert.run(namespace, key, value, JSON.stringify(tagList), ...times);
        for (const tag of tagList) statement.insertTag.run(namespace, key, tag);
      },
    ) as (
      namespace: string,
      key: string,
      value: Buffer,
      tags: readonly string[],
      times: number[],
    ) => void,
    deleteOne: db.transaction((namespace: string, key: string) => {
      statement.deleteTagsOf.run(namespace, key);
      return statement.delete.run(namespace, key).changes > 0;
    }) as (namespace: string, key: string) => boolean,
    deleteIfUnchanged: db.transaction((namespace: string, key: string, row: unknown[]) => {
      if (statement.deleteIfUnchanged.run(namespace, key, ...row).changes === 0) return false;
      statement.deleteTagsOf.run(namespace, key);
      return true;
    }) as (namespace: string, key: string, row: unknown[]) => boolean,
    deleteByTags: db.transaction((tagsJson: string, namespace: string | undefined) =>
      dropTags(
        (namespace === undefined
          ? statement.deleteByTags.all(tagsJson)
          : statement.deleteByTagsIn.all({ tags: tagsJson, namespace })) as KeyRow[],
      ),
    ) as (tagsJson: string, namespace: string | undefined) => number,
    clear: db.transaction((namespace: string | undefined) => {
      if (namespace === undefined) {
        statement.clearTags.run();
        statement.clear.run();
      } else {
        statement.clearTagsIn.run(namespace);
        statement.clearIn.run(namespace);
      }
    }) as (namespace: string | undefined) => void,
    removeExpiredBatch: db.transaction((now: number) =>
      dropTags(statement.removeExpired.all(now) as KeyRow[]),
    ) as (now: number) => number,
  };
}

function sideTable(table: TableName): string {
  const name = quote(derivedName(table.name, 'tags'));
  return table.schema === undefined ? name : `${quote(table.schema)}.${name}`;
}

/** @internal Creates the entries table, its tag table and their indexes when missing. */
export function createTables(db: SqliteDatabaseLike, table: TableName): void {
  const t = table.qualified;
  // SQLite qualifies an index's name with the schema and leaves its table unqualified.
  const schema = table.schema === undefined ? '' : `${quote(table.schema)}.`;
  const tagsName = derivedName(table.name, 'tags');
  // No FOREIGN KEY ... ON DELETE CASCADE for the tags: SQLite enforces it only with the
  // per-connection foreign_keys pragma, which the tier must not change on a database it was given.
  // The tags are deleted explicitly, in the same transaction as their entry.
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${t} (
      namespace TEXT NOT NULL,
      key TEXT NOT NULL,
      value BLOB NOT NULL,
      tags TEXT NOT NULL DEFAULT '[]',
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      stale_until INTEGER NOT NULL,
      PRIMARY KEY (namespace, key)
    );
    CREATE INDEX IF NOT EXISTS ${schema}${quote(derivedName(table.name, 'stale_until_idx'))}
      ON ${quote(table.name)} (stale_until);
    CREATE TABLE IF NOT EXISTS ${sideTable(table)} (
      namespace TEXT NOT NULL,
      key TEXT NOT NULL,
      tag TEXT NOT NULL,
      PRIMARY KEY (namespace, key, tag)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS ${schema}${quote(derivedName(tagsName, 'tag_idx'))}
      ON ${quote(tagsName)} (tag);
  `);
}
