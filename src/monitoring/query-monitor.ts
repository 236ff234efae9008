import { InvalidArgumentError } from '../core/errors.js';
import { defaultForCall, type Enterprise } from '../enterprise.js';
import { OVERFLOW_OPERATION } from '../performance/monitor.js';
import type { WindowName } from '../performance/types.js';
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

/** Options of {@link instrumentPg} and {@link monitorQuery}. */
export interface QueryMonitorOptions {
  /** The instance that records the timings. @defaultValue the default instance, at call time */
  enterprise?: Enterprise;
}

/** One entry of the slowest recent queries. */
export interface SlowQuery {
  /** The statement's fingerprint (never its literal values). */
  statement: string;
  durationMs: number;
  /** Whether the query failed. */
  error: boolean;
  /** When it finished, ISO 8601. */
  at: string;
}

/** Statistics of one statement fingerprint over one window (milliseconds). */
export interface StatementStats {
  statement: string;
  count: number;
  errors: number;
  errorRate: number;
  /** Queries per second over the window. */
  throughput: number;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  totalMs: number;
}

/** The body of `GET /database/performance`. */
export interface DatabasePerformance {
  window: WindowName;
  /** Every statement seen in the window, by total time spent, largest first. */
  statements: StatementStats[];
  /** The slowest queries of the last 15 minutes, slowest first. */
  slowest: SlowQuery[];
  /** Queries recorded under the `_overflow` operation because `PERFORMANCE_MAX_METRICS` was reached. */
  overflowed: boolean;
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

const logs = new WeakMap<Enterprise, SlowestQueries>();

function slowestOf(enterprise: Enterprise): SlowestQueries {
  let log = logs.get(enterprise);
  if (log === undefined) {
    log = new SlowestQueries();
    logs.set(enterprise, log);
  }
  return log;
}

function resolve(options: QueryMonitorOptions | undefined): Enterprise | undefined {
  return options?.enterprise ?? defaultForCall();
}

/** Records one finished query. Never throws: monitoring must not fail the query. */
function recordQuery(
  enterprise: Enterprise | undefined,
  statement: string,
  durationMs: number,
  error: boolean,
): void {
  if (enterprise === undefined) return;
  try {
    enterprise.performance.record(DB_QUERY_OPERATION, durationMs, {
      labels: { statement },
      error,
    });
    slowestOf(enterprise).add(statement, durationMs, error);
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
  const enterprise = resolve(options);
  const statement = sqlFingerprint(sql);
  const started = performance.now();
  const finish = (error: boolean) =>
    recordQuery(enterprise, statement, performance.now() - started, error);
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

/** What {@link instrumentPg} needs of a `pg` Pool or Client. */
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
    const enterprise = resolve(options);
    const statement = sqlFingerprint(text);
    const started = performance.now();
    const finish = (error: boolean) =>
      recordQuery(enterprise, statement, performance.now() - started, error);
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

/**
 * @internal The body of `GET /database/performance`: the `db.query` operations of `enterprise`
 * over `window`, by total time, and its slowest recent queries.
 */
export function databasePerformance(
  enterprise: Enterprise,
  window: WindowName,
): DatabasePerformance {
  const monitor = enterprise.performance;
  const statements: StatementStats[] = [];
  for (const operation of monitor.operations()) {
    if (operation.name !== DB_QUERY_OPERATION) continue;
    const stats = operation.windows[window];
    if (stats.count === 0) continue;
    statements.push({
      statement: operation.labels.statement ?? '',
      count: stats.count,
      errors: stats.errors,
      errorRate: stats.errorRate,
      throughput: stats.throughput,
      mean: stats.mean,
      p50: stats.p50,
      p95: stats.p95,
      p99: stats.p99,
      max: stats.max,
      totalMs: stats.totalMs,
    });
  }
  const overflowed = monitor.getStats(OVERFLOW_OPERATION) !== undefined;
  statements.sort((a, b) => b.totalMs - a.totalMs);
  return { window, statements, slowest: slowestOf(enterprise).list(), overflowed };
}
