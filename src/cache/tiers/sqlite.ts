import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { describeValue, InvalidArgumentError, LifecycleError } from '../../core/errors.js';
import type { CacheTier, EntryMeta, StoredEntry } from '../types.js';
import {
  checkBoolean,
  checkTimeoutMs,
  DELETE_BATCH_SIZE,
  fromStoredTime,
  loadPeer,
  parseTableName,
  rowKey,
  type TableName,
  toBuffer,
  toStoredTime,
} from './sql-common.js';
import {
  createTables,
  type EntryRow,
  prepareStatements,
  type SqliteDatabaseLike,
  type SqliteStatements,
} from './sqlite-statements.js';

export type { SqliteDatabaseLike, SqliteStatementLike } from './sqlite-statements.js';

/** Options of {@link sqliteTier}. */
export interface SqliteTierOptions {
  /**
   * An open better-sqlite3 Database. The tier borrows it: it never closes it nor changes its
   * settings (journal mode, busy timeout, pragmas).
   */
  database?: SqliteDatabaseLike;
  /**
   * A database file the tier opens (with `better-sqlite3`, an optional peer) at its first
   * operation, in WAL mode, and closes on `close()`. `':memory:'` keeps the entries in this
   * process only. @defaultValue ':memory:'
   */
  filename?: string;
  /**
   * The table, optionally qualified by an attached database's name (`main.cache`); letters,
   * digits and `_` only. Tags live in a second table named `<table>_tags`.
   * @defaultValue 'enterprise_cache'
   */
  table?: string;
  /** Create the tables and indexes when missing, at the first operation. @defaultValue true */
  createTable?: boolean;
  /**
   * How long a write waits for another connection's lock before it fails with `SQLITE_BUSY`, in
   * milliseconds (better-sqlite3's `timeout`), for a database the tier opens. better-sqlite3 is
   * synchronous: the wait blocks the event loop, so keep it short. @defaultValue 2000
   */
  timeoutMs?: number;
}

/**
 * The SQLite tier (L3) on better-sqlite3: entries in a local file that outlives restarts, shared by
 * the processes of one machine. Expired rows are removed by `removeExpired()`, which the
 * maintenance tasks call on a schedule.
 *
 * better-sqlite3 is synchronous: each operation runs on the calling thread, in microseconds for
 * one entry. `removeExpired` deletes in batches and yields to the event loop between them.
 *
 * @example
 * ```ts
 * const cache = createCache({
 *   tiers: [memoryTier(), sqliteTier({ filename: '/var/cache/my-service/cache.db' })],
 * });
 * ```
 * @example
 * ```ts
 * // Borrow the service's database; the tier never closes it.
 * const tier = sqliteTier({ database: db, table: 'http_cache' });
 * ```
 */
export function sqliteTier(options: SqliteTierOptions = {}): SqliteTier {
  return new SqliteTier(options);
}

type DatabaseConstructor = new (
  filename: string,
  options: { timeout: number },
) => SqliteDatabaseLike;

/** @see {@link sqliteTier} */
export class SqliteTier implements CacheTier<Uint8Array> {
  readonly name = 'sqlite';
  readonly local = false;
  /** The table, as configured. */
  readonly table: string;
  readonly #tableName: TableName;
  readonly #filename: string;
  readonly #ownsDatabase: boolean;
  readonly #Database: DatabaseConstructor | undefined;
  readonly #createTable: boolean;
  readonly #timeoutMs: number;
  #db: SqliteDatabaseLike | undefined;
  #statements: SqliteStatements | undefined;
  #closed = false;

  constructor(options: SqliteTierOptions = {}) {
    if (options.database !== undefined && options.filename !== undefined) {
      throw new InvalidArgumentError(
        'database and filename were both given: pass one (a database to borrow, or a file to open)',
        {
          argument: 'database',
          value: '[database]',
          expected: 'database or filename, not both',
        },
      );
    }
    if (
      options.database !== undefined &&
      (options.database === null ||
        typeof options.database !== 'object' ||
        typeof options.database.prepare !== 'function')
    ) {
      throw new InvalidArgumentError(
        `database=${describeValue(options.database)} is not a better-sqlite3 Database`,
        {
          argument: 'database',
          value: options.database,
          expected: 'a better-sqlite3 Database',
        },
      );
    }
    if (options.filename !== undefined && typeof options.filename !== 'string') {
      throw new InvalidArgumentError(
        `filename=${describeValue(options.filename)} is invalid: expected a path or ':memory:'`,
        { argument: 'filename', value: options.filename, expected: "a path or ':memory:'" },
      );
    }
    this.table = options.table === undefined ? 'enterprise_cache' : options.table;
    // SQLite reserves names starting with sqlite_ for itself.
    this.#tableName = parseTableName(this.table, { reservedPrefix: 'sqlite_' });
    this.#createTable = checkBoolean(options.createTable, 'createTable', true);
    this.#timeoutMs = checkTimeoutMs(options.timeoutMs, 2_000);
    this.#filename = options.filename ?? ':memory:';
    this.#db = options.database;
    this.#ownsDatabase = options.database === undefined;
    // Loaded now, so a missing peer is reported when the tier is configured, not at the first call;
    // the file itself is opened at the first operation.
    this.#Database = this.#ownsDatabase
      ? loadPeer<DatabaseConstructor>('better-sqlite3', 'the SQLite cache tier')
      : undefined;
  }

  async get(namespace: string, key: string): Promise<StoredEntry<Uint8Array> | undefined> {
    const now = Date.now();
    const row = this.#run('get', (s) => s.get.get(namespace, rowKey(key), now)) as
      | EntryRow
      | undefined;
    if (row === undefined) return undefined;
    return {
      payload: row.value,
      createdAt: fromStoredTime(row.created_at),
      expiresAt: fromStoredTime(row.expires_at),
      staleUntil: fromStoredTime(row.stale_until),
      tags: JSON.parse(row.tags) as string[],
    };
  }

  async set(namespace: string, key: string, payload: Uint8Array, meta: EntryMeta): Promise<void> {
    const times = [
      toStoredTime(meta.createdAt, 'createdAt'),
      toStoredTime(meta.expiresAt, 'expiresAt'),
      toStoredTime(meta.staleUntil, 'staleUntil'),
    ];
    const value = toBuffer(payload);
    this.#run('set', (s) => s.set(namespace, rowKey(key), value, meta.tags, times));
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    return this.#run('delete', (s) => s.deleteOne(namespace, rowKey(key)));
  }

  /**
   * Deletes the row (and its tags) only if its value, tags and times are all still those of
   * `entry`. Tags are compared as the JSON this tier writes: a row whose tags were rewritten in
   * another form is left alone.
   */
  async deleteIfUnchanged(
    namespace: string,
    key: string,
    entry: StoredEntry<Uint8Array>,
  ): Promise<boolean> {
    const row = [
      toBuffer(entry.payload),
      JSON.stringify(entry.tags),
      toStoredTime(entry.createdAt, 'createdAt'),
      toStoredTime(entry.expiresAt, 'expiresAt'),
      toStoredTime(entry.staleUntil, 'staleUntil'),
    ];
    return this.#run('deleteIfUnchanged', (s) => s.deleteIfUnchanged(namespace, rowKey(key), row));
  }

  async deleteByTags(tags: readonly string[], namespace?: string): Promise<number> {
    if (tags.length === 0) return 0;
    const list = JSON.stringify(tags);
    return this.#run('deleteByTags', (s) => s.deleteByTags(list, namespace));
  }

  async clear(namespace?: string): Promise<void> {
    this.#run('clear', (s) => s.clear(namespace));
  }

  /** Opens the database (and creates the table) if not done yet; rejects once closed. */
  async ping(): Promise<void> {
    this.#run('ping', () => undefined);
  }

  /** The SQLite library's version (the database is a file, its engine is the library). */
  async serverVersion(): Promise<string | undefined> {
    this.#run('serverVersion', () => undefined);
    const row = this.#db?.prepare('SELECT sqlite_version() AS version').get() as
      | { version?: unknown }
      | undefined;
    return typeof row?.version === 'string' ? row.version : undefined;
  }

  /**
   * Deletes the rows past their `staleUntil`, 10,000 per transaction, yielding to the event loop
   * between batches: better-sqlite3 is synchronous, and one huge delete would both stall the
   * process and hold the database's write lock against other processes. Rows that go stale while
   * it runs are left for the next call.
   */
  async removeExpired(): Promise<number> {
    const now = Date.now();
    let removed = 0;
    for (;;) {
      const count = this.#run('removeExpired', (s) => s.removeExpiredBatch(now));
      removed += count;
      if (count < DELETE_BATCH_SIZE) return removed;
      await yieldToEventLoop();
    }
  }

  /** Closes the database the tier opened, if any (never one it was given). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements = undefined;
    if (this.#ownsDatabase && this.#db?.open === true) this.#db.close();
    this.#db = undefined;
  }

  /**
   * Runs `work` with the statements. When the tables have disappeared since they were created
   * (someone dropped them to empty the cache), they are created again and `work` runs once more:
   * nothing was done, as SQLite checks the tables before it changes anything.
   */
  #run<T>(operation: string, work: (statements: SqliteStatements) => T): T {
    try {
      return work(this.#ready(operation));
    } catch (error) {
      if (!this.#createTable || !/no such table/.test(String((error as Error)?.message))) {
        throw error;
      }
      this.#statements = undefined;
      return work(this.#ready(operation));
    }
  }

  /**
   * The statements, after opening the database and creating the tables at the first call. A
   * failure leaves nothing half-done behind, so the next call tries again.
   */
  #ready(operation: string): SqliteStatements {
    if (this.#closed) {
      throw new LifecycleError(`the sqlite cache tier is closed (${operation})`, {
        tier: this.name,
        operation,
      });
    }
    if (this.#statements !== undefined) return this.#statements;
    const db = (this.#db ??= this.#openDatabase());
    if (this.#createTable) createTables(db, this.#tableName);
    this.#statements = prepareStatements(db, this.#tableName);
    return this.#statements;
  }

  #openDatabase(): SqliteDatabaseLike {
    const db = new this.#Database!(this.#filename, { timeout: this.#timeoutMs });
    if (!db.memory) {
      try {
        // WAL lets readers in other processes work while one writes. synchronous=NORMAL is safe
        // with WAL (a power cut may lose the last writes, never corrupt the file), which suits a
        // cache: a lost entry is a miss.
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      } catch (error) {
        db.close();
        throw error;
      }
    }
    return db;
  }
}
