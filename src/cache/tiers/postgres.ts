import { describeValue, InvalidArgumentError, LifecycleError } from '../../core/errors.js';
import { CacheTierError } from '../errors.js';
import type { CacheTier, EntryMeta, StoredEntry } from '../types.js';
import { type PostgresStatements, postgresStatements } from './postgres-statements.js';
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

/**
 * The part of a `pg` `PoolClient` the tier uses. A real `pg.PoolClient` fits; the tier's types do
 * not depend on `@types/pg`, so it compiles without the optional peer.
 */
export interface PostgresClientLike {
  query(config: {
    text: string;
    values?: unknown[];
    query_timeout?: number;
  }): Promise<{ rows: any[]; rowCount: number | null }>;
  release(error?: Error | boolean): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * The part of a `pg` `Pool` the tier uses (pg 8). Pass your `new pg.Pool(...)`.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const pool: PostgresPoolLike = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export interface PostgresPoolLike {
  connect(): Promise<PostgresClientLike>;
  end(): Promise<void>;
}

/** Options of {@link postgresTier}. */
export interface PostgresTierOptions {
  /**
   * An existing `pg` Pool. The tier borrows it and never closes it, nor changes its settings; it
   * bounds its own waits by {@link PostgresTierOptions.timeoutMs}, on the client side. Give the
   * pool a `statement_timeout` too, so that the server also cancels a statement the tier gave up
   * on: without it, a `set` that timed out behind a lock may still be applied once the lock goes.
   */
  pool?: PostgresPoolLike;
  /**
   * A connection string for a pool the tier creates (with `pg`, an optional peer) and closes on
   * `close()`. With neither `pool` nor `connectionString`, that pool follows `pg`'s defaults: the
   * libpq `PGHOST`, `PGUSER`, `PGDATABASE`, ... environment variables.
   */
  connectionString?: string;
  /**
   * The table, optionally schema-qualified (`cache.entries`); letters, digits and `_` only.
   * @defaultValue 'enterprise_cache'
   */
  table?: string;
  /**
   * Create the table and its indexes before the first operation when they are missing. Turn it off
   * when the role the service runs as may not create tables (create it in a migration instead).
   * @defaultValue true
   */
  createTable?: boolean;
  /**
   * Longest wait, in milliseconds, for a connection from the pool and for each statement. A pool
   * the tier creates gets it as `connectionTimeoutMillis` and as the server-side
   * `statement_timeout` (a startup parameter: behind PgBouncer, pass your own `pool` instead), and
   * its client-side `query_timeout` a little later, so that the server's cancellation normally
   * comes first and no abandoned statement keeps running.
   * @defaultValue 2000
   */
  timeoutMs?: number;
}

/**
 * The PostgreSQL tier (L3): entries in one table, shared by every instance of the service and kept
 * across restarts. Needs the optional peer `pg` only when it creates the pool itself.
 *
 * The table is created when missing before the first operation (with an index on `stale_until`
 * for `removeExpired` and a GIN index on `tags` for `deleteByTags`). Expired rows are not removed
 * by PostgreSQL: call `removeExpired()` on a schedule (the maintenance tasks do).
 *
 * @example
 * ```ts
 * const cache = createCache({
 *   tiers: [memoryTier(), postgresTier({ connectionString: process.env.DATABASE_URL })],
 * });
 * ```
 * @example
 * ```ts
 * // Borrow the service's pool; the tier never closes it.
 * const tier = postgresTier({ pool, table: 'cache.entries', createTable: false });
 * ```
 */
export function postgresTier(options: PostgresTierOptions = {}): PostgresTier {
  return new PostgresTier(options);
}

interface PgModule {
  Pool: new (
    config: Record<string, unknown>,
  ) => PostgresPoolLike & {
    on(event: 'error', listener: (error: Error) => void): unknown;
  };
}

/** SQLSTATE of "relation does not exist". */
const UNDEFINED_TABLE = '42P01';

/** @see {@link postgresTier} */
export class PostgresTier implements CacheTier<Uint8Array> {
  readonly name = 'postgres';
  readonly local = false;
  /** The table, as configured (`schema.table` or `table`). */
  readonly table: string;
  readonly #pool: PostgresPoolLike;
  readonly #ownsPool: boolean;
  readonly #timeoutMs: number;
  /** The client-side limit of each statement. */
  readonly #queryTimeoutMs: number;
  readonly #createTable: boolean;
  readonly #tableName: TableName;
  readonly #sql: PostgresStatements;
  #ready: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: PostgresTierOptions = {}) {
    if (options.pool !== undefined && options.connectionString !== undefined) {
      throw new InvalidArgumentError(
        'pool and connectionString were both given: pass one (a pool to borrow, or where to connect)',
        { argument: 'pool', value: '[pool]', expected: 'pool or connectionString, not both' },
      );
    }
    if (
      options.pool !== undefined &&
      (options.pool === null ||
        typeof options.pool !== 'object' ||
        typeof options.pool.connect !== 'function')
    ) {
      throw new InvalidArgumentError(`pool=${describeValue(options.pool)} is not a pg Pool`, {
        argument: 'pool',
        value: options.pool,
        expected: 'a pg Pool (pg 8)',
      });
    }
    if (options.connectionString !== undefined && typeof options.connectionString !== 'string') {
      throw new InvalidArgumentError(
        `connectionString=${describeValue(options.connectionString)} is invalid: expected a postgres:// URL or libpq string`,
        {
          argument: 'connectionString',
          value: options.connectionString,
          expected: 'a connection string',
        },
      );
    }
    this.table = options.table === undefined ? 'enterprise_cache' : options.table;
    this.#tableName = parseTableName(this.table);
    this.#timeoutMs = checkTimeoutMs(options.timeoutMs, 2_000);
    // With a pool of ours the server enforces timeoutMs (statement_timeout, below); the client
    // then only needs to outlast it. A given pool has no such guarantee: the client limit is all.
    this.#queryTimeoutMs =
      options.pool === undefined
        ? this.#timeoutMs + Math.min(1_000, this.#timeoutMs / 2)
        : this.#timeoutMs;
    this.#createTable = checkBoolean(options.createTable, 'createTable', true);
    this.#sql = postgresStatements(this.#tableName);
    if (options.pool !== undefined) {
      this.#pool = options.pool;
      this.#ownsPool = false;
    } else {
      const pg = loadPeer<PgModule>('pg', 'the PostgreSQL cache tier');
      const pool = new pg.Pool({
        ...(options.connectionString === undefined
          ? {}
          : { connectionString: options.connectionString }),
        connectionTimeoutMillis: this.#timeoutMs,
        // The server cancels a statement at timeoutMs, so none keeps running (holding locks, or
        // applying a write the caller was told had failed) after the client gave up on it. The
        // client waits a little longer than that, for the server's answer, and gives up by itself
        // only when the server cannot answer at all.
        statement_timeout: Math.ceil(this.#timeoutMs),
        query_timeout: this.#queryTimeoutMs,
        // Idle connections must not keep the process alive: shutdown() closes the tier, but a
        // service that never calls it should still be able to exit.
        allowExitOnIdle: true,
      });
      // An idle connection that breaks (a database restart) is dropped by the pool and reported
      // here; without a listener the 'error' event would crash the process. The next operation
      // opens a new connection or rejects, and the engine records that.
      pool.on('error', () => {});
      this.#pool = pool;
      this.#ownsPool = true;
    }
  }

  async get(namespace: string, key: string): Promise<StoredEntry<Uint8Array> | undefined> {
    // The app's clock, not the database's: the engine computed staleUntil with it.
    const now = Date.now();
    const { rows } = await this.#query('get', this.#sql.get, [namespace, rowKey(key), now]);
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      payload: row.value,
      createdAt: fromStoredTime(row.created_at),
      expiresAt: fromStoredTime(row.expires_at),
      staleUntil: fromStoredTime(row.stale_until),
      tags: row.tags,
    };
  }

  async set(namespace: string, key: string, payload: Uint8Array, meta: EntryMeta): Promise<void> {
    await this.#query('set', this.#sql.set, [
      namespace,
      rowKey(key),
      toBuffer(payload),
      [...meta.tags],
      toStoredTime(meta.createdAt, 'createdAt'),
      toStoredTime(meta.expiresAt, 'expiresAt'),
      toStoredTime(meta.staleUntil, 'staleUntil'),
    ]);
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const { rowCount } = await this.#query('delete', this.#sql.delete, [namespace, rowKey(key)]);
    return (rowCount ?? 0) > 0;
  }

  /** Deletes the row only if its value, tags and times are all still those of `entry`. */
  async deleteIfUnchanged(
    namespace: string,
    key: string,
    entry: StoredEntry<Uint8Array>,
  ): Promise<boolean> {
    const { rowCount } = await this.#query('deleteIfUnchanged', this.#sql.deleteIfUnchanged, [
      namespace,
      rowKey(key),
      toBuffer(entry.payload),
      [...entry.tags],
      toStoredTime(entry.createdAt, 'createdAt'),
      toStoredTime(entry.expiresAt, 'expiresAt'),
      toStoredTime(entry.staleUntil, 'staleUntil'),
    ]);
    return (rowCount ?? 0) > 0;
  }

  async deleteByTags(tags: readonly string[], namespace?: string): Promise<number> {
    if (tags.length === 0) return 0;
    return namespace === undefined
      ? this.#deleteInBatches('deleteByTags', this.#sql.deleteByTags, [[...tags]])
      : this.#deleteInBatches('deleteByTags', this.#sql.deleteByTagsIn, [[...tags], namespace]);
  }

  async clear(namespace?: string): Promise<void> {
    // DELETE rather than TRUNCATE: TRUNCATE takes an exclusive lock that would block every reader.
    if (namespace === undefined) await this.#deleteInBatches('clear', this.#sql.clear, []);
    else await this.#deleteInBatches('clear', this.#sql.clearIn, [namespace]);
  }

  /** A `SELECT 1` through the pool, under the tier's query timeout. */
  async ping(): Promise<void> {
    await this.#query('ping', 'SELECT 1', []);
  }

  async serverVersion(): Promise<string | undefined> {
    const { rows } = await this.#query('serverVersion', 'SHOW server_version', []);
    const version = rows[0]?.server_version;
    return typeof version === 'string' ? version : undefined;
  }

  /**
   * Deletes the rows past their `staleUntil`, 10,000 per statement (each its own transaction), so
   * a large backlog never locks many rows at once nor runs into the statement timeout. Rows that
   * go stale while it runs are left for the next call.
   */
  async removeExpired(): Promise<number> {
    return this.#deleteInBatches('removeExpired', this.#sql.removeExpired, [Date.now()]);
  }

  /** Closes the pool the tier created, if any (never a pool it was given). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#ownsPool ? this.#pool.end() : Promise.resolve();
    return this.#closing;
  }

  /** Runs a batched delete until a batch picks fewer rows than it could; resolves the total. */
  async #deleteInBatches(operation: string, text: string, values: unknown[]): Promise<number> {
    let deleted = 0;
    for (;;) {
      const { rows } = await this.#query(operation, text, values);
      const counts = rows[0] as { picked: number; deleted: number };
      deleted += counts.deleted;
      if (counts.picked < DELETE_BATCH_SIZE) return deleted;
    }
  }

  async #query(
    operation: string,
    text: string,
    values: unknown[],
  ): Promise<{ rows: any[]; rowCount: number | null }> {
    if (this.#closing !== undefined) {
      throw new LifecycleError(`the postgres cache tier is closed (${operation})`, {
        tier: this.name,
        operation,
      });
    }
    for (let attempt = 1; ; attempt++) {
      const ready = this.#ensureTable();
      await ready;
      try {
        return await this.#withClient(operation, (client) =>
          client.query({ text, values, query_timeout: this.#queryTimeoutMs }),
        );
      } catch (error) {
        // The table disappeared after it was created (dropped to empty the cache, say): create
        // it again and run the statement once more, which is safe as it did nothing. Concurrent
        // calls that fail alike share one new creation.
        if (
          !this.#createTable ||
          attempt > 1 ||
          (error as { code?: unknown } | undefined)?.code !== UNDEFINED_TABLE
        ) {
          throw error;
        }
        if (this.#ready === ready) this.#ready = undefined;
      }
    }
  }

  /**
   * Creates the table once. Concurrent first calls share one promise; a failed attempt is
   * forgotten, so the next operation tries again (the database may be back, or the schema created).
   */
  #ensureTable(): Promise<void> {
    if (!this.#createTable) return Promise.resolve();
    this.#ready ??= this.#withClient('createTable', async (client) => {
      // Checked first so that a role without CREATE rights works with a table made in a migration.
      const { rows } = await client.query({
        text: this.#sql.exists,
        values: [this.#tableName.qualified],
        query_timeout: this.#queryTimeoutMs,
      });
      if (rows[0]?.present === true) return;
      await client.query({ text: this.#sql.create, query_timeout: this.#queryTimeoutMs });
    }).catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /**
   * Runs `work` on a client of the pool and gives it back. A client that failed is given back with
   * the error, so the pool discards it: after a timeout its connection may still be busy with the
   * abandoned statement.
   */
  async #withClient<T>(
    operation: string,
    work: (client: PostgresClientLike) => Promise<T>,
  ): Promise<T> {
    const client = await this.#connect(operation);
    let failure: Error | undefined;
    // A connection that breaks while the client is checked out emits 'error' on the client; with
    // no listener that would crash the process (pg's own pool.query guards the same way).
    const onError = (error: Error) => {
      failure ??= error;
    };
    client.on('error', onError);
    try {
      return await work(client);
    } catch (error) {
      failure ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(failure);
    }
  }

  /**
   * A client from the pool within `timeoutMs`. A pool the tier was given may wait for a connection
   * without limit (pg's default), so the wait is bounded here; a client that arrives too late goes
   * straight back to the pool.
   */
  #connect(operation: string): Promise<PostgresClientLike> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(
          new CacheTierError(
            `the postgres cache tier got no connection within ${this.#timeoutMs} ms (${operation})`,
            { tier: this.name, operation, timeoutMs: this.#timeoutMs },
          ),
        );
      }, this.#timeoutMs);
      timer.unref();
      Promise.resolve()
        .then(() => this.#pool.connect())
        .then(
          (client) => {
            if (settled) {
              client.release();
              return;
            }
            settled = true;
            clearTimeout(timer);
            resolve(client);
          },
          (error: unknown) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            reject(error);
          },
        );
    });
  }
}
