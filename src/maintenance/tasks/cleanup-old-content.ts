import { setTimeout as sleep } from 'node:timers/promises';
import { type Duration, parseDuration } from '../../core/duration.js';
import { describeValue } from '../../core/errors.js';
import { MaintenanceConfigError, MaintenanceTaskError } from '../errors.js';
import { durationOption, invalid, numberOption } from '../option-checks.js';
import {
  type PgPoolLike,
  quoteIdentifier,
  resetTimeouts,
  setTimeouts,
  withClient,
} from '../sql.js';
import type {
  MaintenanceOutcome,
  MaintenanceRunContext,
  MaintenanceTaskOptions,
} from '../types.js';

/**
 * A declarative retention rule: rows of `table` whose `timestampColumn` is older than `olderThan`
 * (and that match `where`) are deleted, `batchSize` rows per statement.
 *
 * @example
 * ```ts
 * const rule: RetentionRule = {
 *   table: 'audit.events',
 *   timestampColumn: 'created_at',
 *   olderThan: '90d',
 *   where: { kind: 'page_view' },
 *   batchSize: 5_000,
 * };
 * ```
 */
export interface RetentionRule {
  /** `name` or `schema.name`: letters, digits, `_` and `$` (checked, then quoted). */
  table: string;
  /** A `timestamp` or `timestamptz` column, compared with the database's `now()`. */
  timestampColumn: string;
  olderThan: Duration;
  /** Only rows whose columns equal these values (parameters, never interpolated). */
  where?: Readonly<Record<string, string | number | boolean | null>>;
  /** Rows per DELETE. @defaultValue 1000 */
  batchSize?: number;
}

/** What a function rule receives. */
export interface RetentionFunctionContext {
  signal: AbortSignal;
  dryRun: boolean;
}

/**
 * A retention rule written as a function: deletes (or, in a dry run, counts) what it should, and
 * resolves how many rows. Named by the function's name in the report.
 *
 * @example
 * ```ts
 * const purgeDrafts: RetentionFunction = async function purgeDrafts({ dryRun }) {
 *   return dryRun ? await drafts.countStale() : await drafts.deleteStale();
 * };
 * ```
 */
export type RetentionFunction = (context: RetentionFunctionContext) => Promise<number> | number;

/**
 * Options of `cleanup_old_content`.
 *
 * @example
 * ```ts
 * enterprise.maintenance.enable({
 *   database: { postgres: pool },
 *   cleanup_old_content: {
 *     rules: [{ table: 'sessions', timestampColumn: 'last_seen_at', olderThan: '30d' }],
 *     pause: '100ms',
 *   },
 * });
 * ```
 */
export interface CleanupOldContentOptions extends MaintenanceTaskOptions {
  /** The PostgreSQL pool the declarative rules run on (else `database.postgres`). */
  postgres?: PgPoolLike;
  rules?: readonly (RetentionRule | RetentionFunction)[];
  /** The pause between two batches, so that other writers get the table. @defaultValue '50ms' */
  pause?: Duration;
  /** Longest wait for a row lock. @defaultValue '2s' */
  lockTimeout?: Duration;
  /** Longest run of one batch. @defaultValue '1m' */
  statementTimeout?: Duration;
}

interface CompiledRule {
  name: string;
  fn?: RetentionFunction;
  table?: string;
  column?: string;
  olderThanMs?: number;
  where?: [string, unknown][];
  batchSize?: number;
}

/** @internal Checks every rule (identifiers, durations, batch sizes) when given. */
export function compileRules(options: CleanupOldContentOptions): CompiledRule[] {
  const rules = options.rules ?? [];
  if (!Array.isArray(rules)) throw invalid('cleanup_old_content.rules', rules, 'a list of rules');
  durationOption(options.pause ?? '50ms', '50ms', 'cleanup_old_content.pause');
  durationOption(options.lockTimeout, '2s', 'cleanup_old_content.lockTimeout');
  durationOption(options.statementTimeout, '1m', 'cleanup_old_content.statementTimeout');
  return rules.map((rule, i) => {
    const field = `cleanup_old_content.rules[${i}]`;
    if (typeof rule === 'function') return { name: rule.name || `rule ${i}`, fn: rule };
    if (rule === null || typeof rule !== 'object') {
      throw invalid(field, rule, '{ table, timestampColumn, olderThan } or a function');
    }
    const table = quoteIdentifier(rule.table, `${field}.table`);
    const column = quoteIdentifier(rule.timestampColumn, `${field}.timestampColumn`);
    let olderThanMs: number;
    try {
      olderThanMs = parseDuration(rule.olderThan, `${field}.olderThan`);
      if (!(olderThanMs > 0)) throw new RangeError('not positive');
    } catch (error) {
      throw new MaintenanceConfigError(
        `maintenance option ${field}.olderThan=${describeValue(rule.olderThan)} is invalid: expected a positive duration such as '90d'`,
        { field: `${field}.olderThan`, value: rule.olderThan, expected: 'a positive duration' },
        error,
      );
    }
    const where = Object.entries(rule.where ?? {}).map(([name, value]) => {
      if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
        throw invalid(`${field}.where.${name}`, value, 'a string, number, boolean or null');
      }
      return [quoteIdentifier(name, `${field}.where`), value] as [string, unknown];
    });
    const batchSize = numberOption(
      rule.batchSize,
      1000,
      `${field}.batchSize`,
      (n) => Number.isInteger(n) && n >= 1 && n <= 100_000,
      'an integer from 1 to 100000',
    );
    return { name: rule.table, table, column, olderThanMs, where, batchSize };
  });
}

/** The WHERE clause of a rule: `$1` is the age in milliseconds, the `where` values follow. */
function condition(rule: CompiledRule): { sql: string; params: unknown[] } {
  const parts = [`${rule.column} < now() - ($1::float8 * interval '1 millisecond')`];
  const params: unknown[] = [rule.olderThanMs];
  for (const [column, value] of rule.where ?? []) {
    if (value === null) parts.push(`${column} IS NULL`);
    else {
      params.push(value);
      parts.push(`${column} = $${params.length}`);
    }
  }
  return { sql: parts.join(' AND '), params };
}

/**
 * @internal `cleanup_old_content`: each rule's old rows deleted in batches (by `ctid`, rows locked
 * by someone else skipped until the next run), with a pause between batches so that concurrent
 * writers are never held for long; a dry run counts them instead.
 */
export async function cleanupOldContent(
  options: CleanupOldContentOptions,
  context: MaintenanceRunContext,
): Promise<MaintenanceOutcome> {
  const rules = compileRules(options);
  const pauseMs = durationOption(options.pause ?? '50ms', '50ms', 'pause');
  const lockMs = durationOption(options.lockTimeout, '2s', 'lockTimeout');
  const statementMs = durationOption(options.statementTimeout, '1m', 'statementTimeout');
  const perRule: { rule: string; deleted: number; batches: number; matching?: number }[] = [];
  let deleted = 0;
  for (const rule of rules) {
    if (context.signal.aborted) throw context.signal.reason;
    if (rule.fn !== undefined) {
      const count = Number(await rule.fn({ signal: context.signal, dryRun: context.dryRun }));
      perRule.push(
        context.dryRun
          ? { rule: rule.name, deleted: 0, batches: 0, matching: count }
          : { rule: rule.name, deleted: count, batches: 1 },
      );
      if (!context.dryRun) deleted += count;
      continue;
    }
    const pool = options.postgres;
    if (pool === undefined) {
      throw new MaintenanceTaskError(
        context.task,
        `rule ${rule.name} needs a database: give database.postgres (a pg Pool)`,
      );
    }
    const { sql, params } = condition(rule);
    const result = await withClient(pool, async (client) => {
      // A batch never outlives the run: its statement timeout ends at the run's deadline.
      await setTimeouts(
        client,
        lockMs,
        Math.max(1_000, Math.min(statementMs, context.deadline - Date.now())),
      );
      try {
        if (context.dryRun) {
          const { rows } = await client.query(
            `SELECT count(*)::float8 AS n FROM ${rule.table} WHERE ${sql}`,
            params,
          );
          return { rule: rule.name, deleted: 0, batches: 0, matching: Number(rows[0]?.n ?? 0) };
        }
        const limit = `$${params.length + 1}`;
        const statement = `DELETE FROM ${rule.table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${rule.table} WHERE ${sql} LIMIT ${limit} FOR UPDATE SKIP LOCKED))`;
        let ruleDeleted = 0;
        let batches = 0;
        while (!context.signal.aborted) {
          const { rowCount } = await client.query(statement, [...params, rule.batchSize]);
          batches++;
          ruleDeleted += rowCount ?? 0;
          if ((rowCount ?? 0) < rule.batchSize!) break;
          await sleep(pauseMs, undefined, { ref: false });
        }
        return { rule: rule.name, deleted: ruleDeleted, batches };
      } finally {
        await resetTimeouts(client).catch(() => {});
      }
    });
    perRule.push(result);
    deleted += result.deleted;
  }
  return {
    examined: { rules: rules.length },
    done: { deleted },
    details: { rules: perRule },
  };
}
