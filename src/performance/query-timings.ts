import { InvalidArgumentError } from '../core/errors.js';
import { defaultMonitorForCall } from './default-monitor.js';
import type { PerformanceMonitor } from './performance-monitor.js';
import { sqlFingerprint } from './sql-fingerprint.js';

/**
 * The operation database queries are recorded under, with the fingerprint as `statement` label.
 *
 * @example
 * ```ts
 * enterprise.performance.getStats(DB_QUERY_OPERATION, { statement: 'SELECT * FROM users WHERE id = ?' });
 * ```
 */
export const DB_QUERY_OPERATION = 'db.query';

/**
 * Options of {@link instrumentPg} and {@link monitorQuery}.
 *
 * @example
 * ```ts
 * const options: QueryMonitorOptions = { enterprise: createEnterprise() };
 * ```
 */
export interface QueryMonitorOptions {
  /**
   * The instance that records the timings (an `Enterprise`, or anything with its `performance`
   * monitor). @defaultValue the default instance, at call time
   */
  enterprise?: { readonly performance: PerformanceMonitor };
}

/**
 * One entry of the slowest recent queries.
 *
 * @example
 * ```ts
 * const entry: SlowQuery = { statement: 'SELECT * FROM users WHERE id = ?', durationMs: 812.4, error: false, at: '2025-01-01T00:00:00.000Z' };
 * ```
 */
export interface SlowQuery {
  /** The statement's fingerprint (never its literal values). */
  statement: string;
  durationMs: number;
  /** Whether the query failed. */
  error: boolean;
  /** When it finished, ISO 8601. */
  at: string;
}

const SLOWEST_KEPT = 20;
const SLOWEST_WINDOW_MS = 15 * 60_000;

/** @internal The slowest recent queries of one instance. */
class SlowestQueries {
  readonly #entries: { statement: string; durationMs: number; error: boolean; at: number }[] = [];

  add(statement: string, durationMs: number, error: boolean): void {
    const now = Date.now();
    const entries = this.#entries;
    this.#expire(now);
    if (entries.length >= SLOWEST_KEPT && durationMs <= entries[entries.length - 1]!.durationMs) {
      return;
    }
    let index = entries.findIndex((entry) => entry.durationMs < durationMs);
    if (index === -1) index = entries.length;
    entries.splice(index, 0, { statement, durationMs, error, at: now });
    if (entries.length > SLOWEST_KEPT) entries.pop();
  }

  list(): SlowQuery[] {
    this.#expire(Date.now());
    return this.#entries.map((entry) => ({
      statement: entry.statement,
      durationMs: Math.round(entry.durationMs * 1000) / 1000,
      error: entry.error,
      at: new Date(entry.at).toISOString(),
    }));
  }

  #expire(now: number): void {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      if (now - this.#entries[i]!.at > SLOWEST_WINDOW_MS) this.#entries.splice(i, 1);
    }
  }
}

// Kept per monitor, so an instance that is shut down and dropped takes its queries with it.
const logs = new WeakMap<PerformanceMonitor, SlowestQueries>();

function slowestOf(monitor: PerformanceMonitor): SlowestQueries {
  let log = logs.get(monitor);
  if (log === undefined) {
    log = new SlowestQueries();
    logs.set(monitor, log);
  }
  return log;
}

/**
 * @internal The slowest queries recorded into `monitor` over the last 15 minutes, slowest first
 * (at most 20).
 */
export function slowestQueries(monitor: PerformanceMonitor): SlowQuery[] {
  return slowestOf(monitor).list();
}

function resolve(options: QueryMonitorOptions | undefined): PerformanceMonitor | undefined {
  return options?.enterprise?.performance ?? defaultMonitorForCall();
}

/** Records one finished query. Never throws: monitoring must not fail the query. */
function recordQuery(
  monitor: PerformanceMonitor | undefined,
  statement: string,
  durationMs: number,
  error: boolean,
): void {
  if (monitor === undefined) return;
  try {
    monitor.record(DB_QUERY_OPERATION, durationMs, { labels: { statement }, error });
    slowestOf(monitor).add(statement, durationMs, error);
  } catch {
    // A monitor in a bad state costs the measurement, never the query.
  }
}

/**
 * Runs `fn` (which runs the query `sql`) and records its duration under the statement's
 * fingerprint, for `GET /database/performance`: count, errors and latency percentiles per
 * fingerprint, and the slowest recent queries. Works with any client; returns what `fn` returns.
 *
 * @example
 * ```ts
 * const sql = 'SELECT * FROM orders WHERE customer_id = ?';
 * const rows = await monitorQuery(sql, () => mysql.query(sql, [customerId]));
 * ```
 */
export function monitorQuery<T>(sql: string, fn: () => T, options?: QueryMonitorOptions): T {
  if (typeof sql !== 'string') {
    throw new InvalidArgumentError('sql must be a string', {
      argument: 'sql',
      value: sql,
      expected: 'the SQL text of the query',
    });
  }
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError('fn must be a function', {
      argument: 'fn',
      value: fn,
      expected: 'a function that runs the query',
    });
  }
  const monitor = resolve(options);
  const statement = sqlFingerprint(sql);
  const started = performance.now();
  const finish = (error: boolean) =>
    recordQuery(monitor, statement, performance.now() - started, error);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    finish(true);
    throw error;
  }
  return settle(result, finish);
}

/**
 * Times a result that may be a promise. A native promise is replaced by one that settles the
 * same way, so a rejection nobody handles is still reported as unhandled; another thenable is
 * observed on the side and returned as it is.
 */
function settle<T>(result: T, finish: (error: boolean) => void): T {
  if (result instanceof Promise) {
    if (result.constructor === Promise) {
      return result.then(
        (value) => {
          finish(false);
          return value;
        },
        (error: unknown) => {
          finish(true);
          throw error;
        },
      ) as T;
    }
    result.then(
      () => finish(false),
      () => finish(true),
    );
    return result;
  }
  finish(false);
  return result;
}

const INSTRUMENTED = Symbol.for('@revcopy/enterprise/monitoring/instrumented-pg');

/**
 * What {@link instrumentPg} needs of a `pg` Pool or Client.
 *
 * @example
 * ```ts
 * const client: PgQueryable = new pg.Client();
 * ```
 */
export interface PgQueryable {
  query: (...args: any[]) => any;
}

/**
 * Times every query of a `pg` Pool or Client by statement fingerprint, for
 * `GET /database/performance`. Both the promise and the callback forms are timed; streams and
 * cursors (objects with `submit`) pass through untimed. On a Pool, each connection is instrumented,
 * so `pool.query()` and queries on clients from `pool.connect()` alike are counted, once. Returns
 * the same object. Instrumenting twice is a no-op; `pg` itself is not imported.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const pool = instrumentPg(new pg.Pool({ connectionString: process.env.DATABASE_URL }));
 * await pool.query('SELECT * FROM users WHERE id = $1', [42]); // recorded as "SELECT * FROM users WHERE id = ?"
 * ```
 */
export function instrumentPg<T extends PgQueryable>(target: T, options?: QueryMonitorOptions): T {
  if (target === null || typeof target !== 'object' || typeof target.query !== 'function') {
    throw new InvalidArgumentError('instrumentPg needs a pg Pool or Client', {
      argument: 'target',
      value: target,
      expected: 'an object with a query() method (pg.Pool or pg.Client)',
    });
  }
  const holder = target as T & { [INSTRUMENTED]?: true };
  if (holder[INSTRUMENTED]) return target;
  holder[INSTRUMENTED] = true;
  const pool = target as unknown as {
    totalCount?: unknown;
    _clients?: unknown;
    on?: (event: string, listener: (client: PgQueryable) => void) => void;
  };
  if (typeof pool.totalCount === 'number' && typeof pool.on === 'function') {
    // A Pool runs every query, its own included, on one of its clients: instrumenting the clients
    // (those connected now and each new one, before its first query) counts each query once.
    if (Array.isArray(pool._clients)) {
      for (const client of pool._clients) instrumentPg(client as PgQueryable, options);
    }
    pool.on('connect', (client) => {
      instrumentPg(client, options);
    });
    return target;
  }
  wrapQuery(target, options);
  return target;
}

function wrapQuery(target: PgQueryable, options: QueryMonitorOptions | undefined): void {
  const original = target.query;
  target.query = function instrumentedQuery(this: unknown, ...args: any[]) {
    const first = args[0];
    if (first !== null && typeof first === 'object' && typeof first.submit === 'function') {
      return original.apply(this, args);
    }
    const text = typeof first === 'string' ? first : first?.text;
    if (typeof text !== 'string') return original.apply(this, args);
    const monitor = resolve(options);
    const statement = sqlFingerprint(text);
    const started = performance.now();
    const finish = (error: boolean) =>
      recordQuery(monitor, statement, performance.now() - started, error);
    const last = args.length - 1;
    const callback = args[last];
    if (last > 0 && typeof callback === 'function') {
      args[last] = function timedCallback(this: unknown, error: unknown, ...rest: unknown[]) {
        finish(error !== null && error !== undefined);
        return callback.call(this, error, ...rest);
      };
      return original.apply(this, args);
    }
    let result: unknown;
    try {
      result = original.apply(this, args);
    } catch (error) {
      finish(true);
      throw error;
    }
    return settle(result, finish);
  };
}
