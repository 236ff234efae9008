import { createHash } from 'node:crypto';
import { describeValue, InvalidArgumentError } from '../../core/errors.js';
import { storageKey } from '../keys.js';

// Helpers shared by the SQL tiers (postgres.ts, sqlite.ts); none of them is part of the public API.

/** The longest identifier PostgreSQL keeps (NAMEDATALEN - 1); longer ones are silently cut. */
const MAX_IDENTIFIER_LENGTH = 63;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A validated table name, optionally schema-qualified. */
export interface TableName {
  /** The schema (PostgreSQL) or attached database (SQLite), when given. */
  schema: string | undefined;
  /** The table itself, unqualified. */
  name: string;
  /** The quoted, qualified form for SQL text: `"schema"."name"` or `"name"`. */
  qualified: string;
}

/**
 * Validates `value` as `name` or `schema.name`, each part a plain identifier (letters, digits and
 * `_`, not starting with a digit, at most 63 characters). Table names cannot be bound as query
 * parameters, so this check is what keeps them from being an injection point; quoting them
 * afterwards keeps their case exactly as written.
 *
 * @internal
 */
export function parseTableName(
  value: unknown,
  options: { reservedPrefix?: string } = {},
): TableName {
  const expected =
    'a table name of letters, digits and "_" (not starting with a digit, at most 63 characters), optionally schema-qualified as "schema.table"';
  const fail = (): never => {
    throw new InvalidArgumentError(
      `table=${describeValue(value)} is not a valid table name: expected ${expected}`,
      { argument: 'table', value, expected },
    );
  };
  if (typeof value !== 'string') return fail();
  const parts = value.split('.');
  if (parts.length > 2) return fail();
  for (const part of parts) {
    if (!IDENTIFIER.test(part) || part.length > MAX_IDENTIFIER_LENGTH) fail();
  }
  const name = parts.at(-1)!;
  const schema = parts.length === 2 ? parts[0] : undefined;
  if (
    options.reservedPrefix !== undefined &&
    name.toLowerCase().startsWith(options.reservedPrefix)
  ) {
    fail();
  }
  return {
    schema,
    name,
    qualified: schema === undefined ? quote(name) : `${quote(schema)}.${quote(name)}`,
  };
}

/** Quotes an identifier that {@link parseTableName} (or {@link derivedName}) produced. */
export function quote(identifier: string): string {
  return `"${identifier}"`;
}

/**
 * The name of an object derived from a table (an index, a side table): `<table>_<suffix>`, kept
 * within PostgreSQL's 63 characters. A longer one is cut and given a hash of the full name, because
 * PostgreSQL would otherwise cut it itself and two long table names sharing a prefix would get the
 * same index name, and `IF NOT EXISTS` would then silently skip the second index.
 *
 * @internal
 */
export function derivedName(table: string, suffix: string): string {
  const full = `${table}_${suffix}`;
  if (full.length <= MAX_IDENTIFIER_LENGTH) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${table.slice(0, MAX_IDENTIFIER_LENGTH - suffix.length - hash.length - 2)}_${hash}_${suffix}`;
}

/**
 * The key as the SQL tiers store it: {@link storageKey}, except for keys SQL text cannot hold
 * faithfully. PostgreSQL refuses U+0000 in text, and both databases store UTF-8, into which a lone
 * surrogate half can only be written as U+FFFD, so `'\uD800'` and `'\uD801'` would become the same
 * row. Such keys are stored as `!` and the SHA-256 of their UTF-16 code units, which is lossless;
 * `!` is neither of storageKey's markers, so they cannot collide with any other key.
 *
 * @internal
 */
export function rowKey(key: string): string {
  return storageKey(key);
}

/**
 * An {@link EntryMeta} time as an integer column holds it. Times are whole milliseconds
 * (`Date.now()`); a fractional one is rounded. `Infinity` (an entry that never goes stale) is
 * stored as `Number.MAX_SAFE_INTEGER` and read back as `Infinity`.
 *
 * @internal
 */
export function toStoredTime(value: number, field: string): number {
  if (value === Number.POSITIVE_INFINITY) return Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(
      `${field}=${describeValue(value)} is invalid: expected epoch milliseconds`,
      { argument: field, value, expected: 'epoch milliseconds' },
    );
  }
  return Math.round(value);
}

/**
 * Reverses {@link toStoredTime}. PostgreSQL drivers hand `bigint` columns back as strings (or
 * bigints, with a custom parser), hence the `Number`.
 *
 * @internal
 */
export function fromStoredTime(value: unknown): number {
  const n = Number(value);
  return n >= Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : n;
}

/** A Buffer over the same memory as `payload`: both drivers bind a Buffer as binary, uncopied. */
export function toBuffer(payload: Uint8Array): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

// The SQL tiers and their tests import it from here.
export { loadPeer } from '../../core/optional-peer.js';

/**
 * Validates a `timeoutMs` option: a positive, finite number of milliseconds.
 *
 * @internal
 */
export function checkTimeoutMs(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      `timeoutMs=${describeValue(value)} is invalid: expected a positive number of milliseconds`,
      { argument: 'timeoutMs', value, expected: 'a positive number of milliseconds' },
    );
  }
  return value;
}

/**
 * Validates a boolean option.
 *
 * @internal
 */
export function checkBoolean(value: unknown, argument: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new InvalidArgumentError(
      `${argument}=${describeValue(value)} is invalid: expected true or false`,
      {
        argument,
        value,
        expected: 'true or false',
      },
    );
  }
  return value;
}

/** Rows deleted per statement by `removeExpired` (and the other bulk deletes of PostgreSQL). */
export const DELETE_BATCH_SIZE = 10_000;
