import type { Duration } from '../../core/duration.js';
import { MaintenanceTaskError } from '../errors.js';
import { durationOption, invalid, numberOption } from '../option-checks.js';
import {
  type PgClientLike,
  type PgPoolLike,
  quoteIdentifier,
  resetTimeouts,
  type SqliteDatabaseLike,
  setTimeouts,
  withClient,
} from '../sql.js';
import type {
  MaintenanceOutcome,
  MaintenanceRunContext,
  MaintenanceTaskOptions,
} from '../types.js';
import { optimizeSqlite } from './optimize-sqlite.js';

/**
 * Options of `optimize_database`: what counts as "needs a vacuum" or "stale statistics", and how
 * long a statement may wait for a lock or run.
 *
 * @example
 * ```ts
 * enterprise.maintenance.enable({
 *   optimize_database: { postgres: pool, deadTupleRatio: 0.1, lockTimeout: '2s', dryRun: true },
 * });
 * ```
 */
export interface OptimizeDatabaseOptions extends MaintenanceTaskOptions {
  /** The PostgreSQL pool (else `database.postgres`). */
  postgres?: PgPoolLike;
  /** The SQLite database (else `database.sqlite`). */
  sqlite?: SqliteDatabaseLike;
  /** `VACUUM (ANALYZE)` a table whose dead tuples are at least this share of its tuples. @defaultValue 0.2 */
  deadTupleRatio?: number;
  /** ...and at least this many. @defaultValue 1000 */
  minDeadTuples?: number;
  /** `ANALYZE` a table whose rows changed since its last analyze are this share of its rows. @defaultValue 0.1 */
  staleStatsRatio?: number;
  /** ...and at least this many. @defaultValue 1000 */
  minModifiedRows?: number;
  /** Tables vacuumed or analyzed per run at most, the worst first. @defaultValue 20 */
  maxTables?: number;
  /** Only the tables and indexes of these schemas. @defaultValue every schema */
  schemas?: readonly string[];
  /** Tables (`name` or `schema.name`) never touched. */
  exclude?: readonly string[];
  /** Longest wait for a table's lock; a table that stays locked is skipped. @defaultValue '5s' */
  lockTimeout?: Duration;
  /** Longest run of one statement. @defaultValue '30m' (never past the run's timeout) */
  statementTimeout?: Duration;
}

interface TableStats {
  schema: string;
  table: string;
  live: number;
  dead: number;
  modified: number;
  analyzedEver: boolean;
  bytes: number;
}

interface Plan {
  vacuum: TableStats[];
  analyze: TableStats[];
}

/** @internal Checks the task's options when given. */
export function checkOptimizeOptions(options: OptimizeDatabaseOptions): void {
  const ratio = (n: number) => n > 0 && n <= 1;
  const count = (n: number) => Number.isInteger(n) && n >= 0;
  numberOption(
    options.deadTupleRatio,
    0.2,
    'optimize_database.deadTupleRatio',
    ratio,
    'a share above 0, at most 1',
  );
  numberOption(
    options.staleStatsRatio,
    0.1,
    'optimize_database.staleStatsRatio',
    ratio,
    'a share above 0, at most 1',
  );
  numberOption(
    options.minDeadTuples,
    1000,
    'optimize_database.minDeadTuples',
    count,
    'an integer of 0 or more',
  );
  numberOption(
    options.minModifiedRows,
    1000,
    'optimize_database.minModifiedRows',
    count,
    'an integer of 0 or more',
  );
  numberOption(
    options.maxTables,
    20,
    'optimize_database.maxTables',
    (n) => count(n) && n >= 1,
    'an integer of 1 or more',
  );
  durationOption(options.lockTimeout, '5s', 'optimize_database.lockTimeout');
  durationOption(options.statementTimeout, '30m', 'optimize_database.statementTimeout');
  if (options.exclude !== undefined) {
    if (!Array.isArray(options.exclude))
      throw invalid('optimize_database.exclude', options.exclude, 'a list of table names');
    for (const [i, name] of options.exclude.entries()) {
      quoteIdentifier(name, `optimize_database.exclude[${i}]`);
    }
  }
  if (options.schemas !== undefined) {
    if (!Array.isArray(options.schemas)) {
      throw invalid('optimize_database.schemas', options.schemas, 'a list of schema names');
    }
    for (const [i, name] of options.schemas.entries()) {
      quoteIdentifier(name, `optimize_database.schemas[${i}]`);
    }
  }
  if (options.postgres !== undefined && typeof options.postgres.connect !== 'function') {
    throw invalid('optimize_database.postgres', options.postgres, 'a pg Pool');
  }
  if (options.sqlite !== undefined && typeof options.sqlite.pragma !== 'function') {
    throw invalid('optimize_database.sqlite', options.sqlite, 'a better-sqlite3 Database');
  }
}

const STATS = `
SELECT schemaname AS schema, relname AS table, n_live_tup::float8 AS live, n_dead_tup::float8 AS dead,
       n_mod_since_analyze::float8 AS modified,
       (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL) AS analyzed_ever,
       pg_total_relation_size(relid)::float8 AS bytes
FROM pg_stat_user_tables
WHERE $1::text[] IS NULL OR schemaname = ANY($1::text[])`;

const UNUSED_INDEXES = `
SELECT s.schemaname AS schema, s.relname AS table, s.indexrelname AS index,
       pg_relation_size(s.indexrelid)::float8 AS bytes
FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
  AND ($1::text[] IS NULL OR s.schemaname = ANY($1::text[]))
ORDER BY bytes DESC LIMIT 50`;

const DUPLICATE_INDEXES = `
SELECT n.nspname AS schema, c.relname AS table, array_agg(ic.relname::text ORDER BY ic.relname) AS indexes,
       sum(pg_relation_size(i.indexrelid))::float8 AS bytes
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  AND ($1::text[] IS NULL OR n.nspname = ANY($1::text[]))
GROUP BY n.nspname, c.relname, i.indrelid, i.indkey::text, i.indclass::text,
         coalesce(i.indexprs::text, ''), coalesce(i.indpred::text, '')
HAVING count(*) > 1
ORDER BY bytes DESC LIMIT 50`;

function planOf(tables: TableStats[], options: OptimizeDatabaseOptions): Plan {
  const deadRatio = options.deadTupleRatio ?? 0.2;
  const minDead = options.minDeadTuples ?? 1000;
  const staleRatio = options.staleStatsRatio ?? 0.1;
  const minModified = options.minModifiedRows ?? 1000;
  const max = options.maxTables ?? 20;
  const excluded = new Set(options.exclude ?? []);
  const candidates = tables.filter(
    (t) => !excluded.has(t.table) && !excluded.has(`${t.schema}.${t.table}`),
  );
  const share = (t: TableStats) => t.dead / Math.max(1, t.live + t.dead);
  const vacuum = candidates
    .filter((t) => t.dead >= minDead && share(t) >= deadRatio)
    .sort((a, b) => share(b) - share(a))
    .slice(0, max);
  const chosen = new Set(vacuum);
  const analyze = candidates
    .filter(
      (t) =>
        !chosen.has(t) &&
        t.modified >= minModified &&
        (!t.analyzedEver || t.modified / Math.max(1, t.live) >= staleRatio),
    )
    .sort((a, b) => b.modified - a.modified)
    .slice(0, Math.max(0, max - vacuum.length));
  return { vacuum, analyze };
}

const nameOf = (t: TableStats) => `${t.schema}.${t.table}`;

async function optimizePostgres(
  pool: PgPoolLike,
  options: OptimizeDatabaseOptions,
  context: MaintenanceRunContext,
): Promise<MaintenanceOutcome> {
  const lockMs = durationOption(options.lockTimeout, '5s', 'lockTimeout');
  const statementMs = durationOption(options.statementTimeout, '30m', 'statementTimeout');
  return withClient(pool, async (client) => {
    const remaining = () => Math.max(1_000, Math.min(statementMs, context.deadline - Date.now()));
    await setTimeouts(client, lockMs, remaining());
    try {
      const version = Number(
        (await client.query('SHOW server_version_num')).rows[0]?.server_version_num,
      );
      const schemas = [options.schemas ?? null];
      const tables: TableStats[] = (await client.query(STATS, schemas)).rows.map((r) => ({
        schema: r.schema,
        table: r.table,
        live: Number(r.live),
        dead: Number(r.dead),
        modified: Number(r.modified ?? 0),
        analyzedEver: r.analyzed_ever === true,
        bytes: Number(r.bytes),
      }));
      const plan = planOf(tables, options);
      const unused = (await client.query(UNUSED_INDEXES, schemas)).rows.map((r) => ({
        index: `${r.schema}.${r.index}`,
        table: `${r.schema}.${r.table}`,
        bytes: Number(r.bytes),
      }));
      const duplicates = (await client.query(DUPLICATE_INDEXES, schemas)).rows.map((r) => ({
        table: `${r.schema}.${r.table}`,
        indexes: r.indexes as string[],
        bytes: Number(r.bytes),
      }));
      // An estimate from the statistics: the dead tuples' share of the table's size.
      const bloat = tables
        .map((t) => ({
          table: nameOf(t),
          bytes: t.bytes,
          estimatedBloatBytes: Math.round((t.bytes * t.dead) / Math.max(1, t.live + t.dead)),
        }))
        .filter((t) => t.estimatedBloatBytes > 0)
        .sort((a, b) => b.estimatedBloatBytes - a.estimatedBloatBytes)
        .slice(0, 20);
      const done = { vacuumed: 0, analyzed: 0, skipped: 0 };
      const skipped: { table: string; reason: string }[] = [];
      if (!context.dryRun) {
        // SKIP_LOCKED (PostgreSQL 12+): a table someone holds a conflicting lock on is skipped
        // rather than waited for; lock_timeout bounds the wait on older servers.
        const skip = version >= 120_000 ? ', SKIP_LOCKED' : '';
        const steps = [
          ...plan.vacuum.map((t) => [t, `VACUUM (ANALYZE${skip}) `] as const),
          ...plan.analyze.map(
            (t) => [t, `ANALYZE ${skip === '' ? '' : '(SKIP_LOCKED) '}`] as const,
          ),
        ];
        for (const [table, command] of steps) {
          if (context.signal.aborted) break;
          await client.query(`SET statement_timeout = ${Math.round(remaining())}`);
          try {
            await runStatement(
              client,
              command + quoteIdentifier(nameOf(table), 'table'),
              context.signal,
            );
            if (command.startsWith('VACUUM')) done.vacuumed++;
            else done.analyzed++;
          } catch (error) {
            if (context.signal.aborted) throw error;
            done.skipped++;
            skipped.push({ table: nameOf(table), reason: (error as Error).message });
          }
        }
      }
      return {
        examined: { tables: tables.length, indexes: unused.length + duplicates.length },
        done,
        details: {
          vacuum: plan.vacuum.map((t) => ({ table: nameOf(t), live: t.live, dead: t.dead })),
          analyze: plan.analyze.map((t) => ({
            table: nameOf(t),
            modified: t.modified,
            live: t.live,
          })),
          skipped,
          unusedIndexes: unused,
          duplicateIndexes: duplicates,
          bloat,
        },
      };
    } finally {
      await resetTimeouts(client).catch(() => {});
    }
  });
}

/** Runs a statement; an abort of the run cancels the wait (the statement timeout ends it server-side). */
async function runStatement(client: PgClientLike, sql: string, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw signal.reason;
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    client.query(sql).then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * @internal `optimize_database`: on PostgreSQL, decides from `pg_stat_user_tables` which tables need
 * `VACUUM (ANALYZE)` (dead tuples past the threshold) or `ANALYZE` (statistics gone stale), runs
 * those under `lock_timeout` and `statement_timeout`, and reports unused and duplicate indexes and
 * an estimate of bloat; on SQLite, `PRAGMA optimize`, a WAL checkpoint and an incremental vacuum;
 * and removes expired rows of the cache's SQL tiers.
 */
export async function optimizeDatabase(
  options: OptimizeDatabaseOptions & { postgres?: PgPoolLike; sqlite?: SqliteDatabaseLike },
  cache: { removeExpired(): Promise<Record<string, number>> } | undefined,
  context: MaintenanceRunContext,
): Promise<MaintenanceOutcome> {
  const outcome: MaintenanceOutcome = { examined: {}, done: {}, details: {}, notes: [] };
  if (options.postgres !== undefined) {
    const pg = await optimizePostgres(options.postgres, options, context);
    Object.assign(outcome.examined, pg.examined);
    Object.assign(outcome.done, pg.done);
    outcome.details!.postgres = pg.details;
  }
  if (options.sqlite !== undefined) {
    const sqlite = optimizeSqlite(options.sqlite, context.dryRun);
    outcome.examined.sqliteDatabases = 1;
    Object.assign(outcome.done, sqlite.done);
    outcome.details!.sqlite = sqlite.details;
  }
  if (cache !== undefined && !context.dryRun) {
    const removed = await cache.removeExpired();
    const total = Object.values(removed).reduce((sum, n) => sum + n, 0);
    outcome.done.expiredCacheRows = total;
    outcome.details!.cacheTiers = removed;
  }
  if (options.postgres === undefined && options.sqlite === undefined) {
    if (cache === undefined) {
      throw new MaintenanceTaskError(
        context.task,
        'no database to optimize: give database.postgres (a pg Pool) or database.sqlite',
      );
    }
    outcome.notes!.push('no database given: only the cache tiers were maintained');
  }
  return outcome;
}
