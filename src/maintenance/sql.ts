import { describeValue } from '../core/errors.js';
import { MaintenanceConfigError } from './errors.js';

/** The part of a `pg` client the maintenance tasks use. */
export interface PgClientLike {
  query(
    text: string,
    values?: readonly unknown[],
  ): Promise<{ rows: any[]; rowCount: number | null }>;
  release(error?: Error | boolean): void;
}

/**
 * The part of a `pg` `Pool` the maintenance tasks use: a `Pool` from `pg` is one. The tasks take a
 * client for each step and give it back; they never end the pool.
 */
export interface PgPoolLike {
  connect(): Promise<PgClientLike>;
}

/** The part of a `better-sqlite3` `Database` the maintenance tasks use. */
export interface SqliteDatabaseLike {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare(source: string): { run(...params: unknown[]): { changes: number } };
  readonly name?: string;
}

// One SQL identifier part: a letter or underscore, then letters, digits, underscores or dollars
// (what PostgreSQL and SQLite accept unquoted), at most 63 bytes (PostgreSQL's NAMEDATALEN - 1).
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * @internal Checks a table or column name (`name` or `schema.name`) and returns it double-quoted,
 * part by part. Anything else is a {@link MaintenanceConfigError}: identifiers are never
 * interpolated as given.
 *
 * @example
 * ```ts
 * quoteIdentifier('public.sessions', 'rules[0].table'); // '"public"."sessions"'
 * quoteIdentifier('x; DROP TABLE y', 'rules[0].table'); // throws E_MAINTENANCE_CONFIG
 * ```
 */
export function quoteIdentifier(name: unknown, field: string): string {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if (parts.length === 0 || parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new MaintenanceConfigError(
      `maintenance option ${field}=${describeValue(name)} is not a valid identifier: expected a name (or schema.name) of letters, digits, _ and $, starting with a letter or _`,
      { field, value: name, expected: 'an SQL identifier' },
    );
  }
  return parts.map((part) => `"${part}"`).join('.');
}

/** @internal Runs `work` on a client of `pool`, released afterwards (destroyed after an error). */
export async function withClient<T>(
  pool: PgPoolLike,
  work: (client: PgClientLike) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    return await work(client);
  } catch (error) {
    failed = error as Error;
    throw error;
  } finally {
    // A client whose statement failed or timed out may be mid-transaction: the pool drops it.
    client.release(failed);
  }
}

/** @internal Sets the session's lock and statement timeouts (milliseconds) on `client`. */
export async function setTimeouts(
  client: PgClientLike,
  lockTimeoutMs: number,
  statementTimeoutMs: number,
): Promise<void> {
  await client.query(`SET lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
  await client.query(`SET statement_timeout = ${Math.max(1, Math.round(statementTimeoutMs))}`);
}

/** @internal Resets what {@link setTimeouts} set, before the client goes back to its pool. */
export async function resetTimeouts(client: PgClientLike): Promise<void> {
  await client.query('RESET lock_timeout');
  await client.query('RESET statement_timeout');
}
