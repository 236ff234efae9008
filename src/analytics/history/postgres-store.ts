import { describeValue, EnterpriseError, InvalidArgumentError } from '../../core/errors.js';
import { loadPeer } from '../../core/optional-peer.js';
import { rejectAfter } from '../../core/timeout.js';
import { normalizeBuckets } from './buckets.js';
import { HistoryStoreError } from './errors.js';
import {
  DELETE_BATCH,
  type HistoryStatements,
  historyStatements,
  historyTables,
} from './postgres-statements.js';
import { checkKnown, labelsMatch, planQuery, type QueryPlan } from './query-plan.js';
import { MetricSteps, OperationSteps } from './query-steps.js';
import { checkRollup } from './rollup-checks.js';
import { canonicalLabels, labelSetId } from './series-key.js';
import {
  type HistoryStoreOptions,
  HOUR_MS,
  MINUTE_MS,
  type StoreSettings,
  storeSettings,
} from './store-settings.js';
import type {
  HistoryQuery,
  HistorySeries,
  HistoryStore,
  MetricQuery,
  MetricSeries,
  MinuteRollup,
  SeriesInfo,
} from './types.js';

/** The part of a `pg` pool client the store uses; a real `pg.PoolClient` fits. */
export interface HistoryPgClient {
  query(config: {
    text: string;
    values?: unknown[];
    query_timeout?: number;
  }): Promise<{ rows: any[]; rowCount: number | null }>;
  release(error?: Error | boolean): void;
}

/**
 * The part of a `pg` `Pool` the store uses (pg 8): pass your `new pg.Pool(...)`.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const pool: HistoryPgPool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export interface HistoryPgPool {
  connect(): Promise<HistoryPgClient>;
  end(): Promise<void>;
}

/** Options of {@link PostgresHistoryStore}. */
export interface PostgresHistoryStoreOptions extends HistoryStoreOptions {
  /** An existing `pg` Pool, borrowed and never closed. Give either `pool` or `connectionString`. */
  pool?: HistoryPgPool;
  /** Where a pool of the store's own connects (with `pg`, an optional peer); closed by `close()`. */
  connectionString?: string;
  /** The table, optionally `schema.table`; `<table>_series` and `<table>_writes` sit beside it. @defaultValue 'enterprise_history' */
  table?: string;
  /** Longest wait for a connection and for each call. @defaultValue 5000 */
  timeoutMs?: number;
  /** How often a write also deletes what the retention no longer keeps. @defaultValue 600000 (10 minutes) */
  pruneIntervalMs?: number;
}

interface PgModule {
  Pool: new (
    config: Record<string, unknown>,
  ) => HistoryPgPool & {
    on(event: 'error', listener: (error: Error) => void): unknown;
  };
}

const KIND = { operation: 'o', metric: 'm' } as const;

/**
 * The {@link HistoryStore} in PostgreSQL: one row per series, resolution and minute or hour, for
 * deployments that keep their history in the database. A write is one transaction: the rollup's
 * id (a retried write counts once), its minute rows and the hour rows they add to (counts summed,
 * buckets merged key by key in SQL). The tables are created when missing, before the first call;
 * rows past the retention are deleted every `pruneIntervalMs` by a write, or by `prune()`. Needs the
 * optional peer `pg` only when it creates its pool.
 *
 * @example
 * ```ts
 * const store = new PostgresHistoryStore({ connectionString: process.env.DATABASE_URL, table: 'metrics.history' });
 * const recorder = new HistoryRecorder({ store, operations: enterprise.performance });
 * ```
 */
export class PostgresHistoryStore implements HistoryStore {
  readonly name = 'postgres';
  readonly retention: { readonly minutesMs: number; readonly hoursMs: number };
  readonly #settings: StoreSettings;
  readonly #pool: HistoryPgPool;
  readonly #ownsPool: boolean;
  readonly #timeoutMs: number;
  readonly #pruneIntervalMs: number;
  readonly #sql: HistoryStatements;
  #ready: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #prunedAt = Number.NEGATIVE_INFINITY;
  #pruning: Promise<void> | undefined;

  constructor(options: PostgresHistoryStoreOptions = {}) {
    this.#settings = storeSettings(options);
    this.retention = { minutesMs: this.#settings.minutesMs, hoursMs: this.#settings.hoursMs };
    this.#sql = historyStatements(historyTables(options.table ?? 'enterprise_history'));
    this.#timeoutMs = positiveMs(options.timeoutMs ?? 5_000, 'timeoutMs');
    this.#pruneIntervalMs = positiveMs(options.pruneIntervalMs ?? 600_000, 'pruneIntervalMs');
    if (options.pool !== undefined && options.connectionString !== undefined) {
      throw new InvalidArgumentError('pool and connectionString were both given: pass one', {
        argument: 'pool',
        value: '[pool]',
        expected: 'pool or connectionString, not both',
      });
    }
    if (options.pool !== undefined) {
      if (typeof options.pool?.connect !== 'function') {
        throw new InvalidArgumentError(`pool=${describeValue(options.pool)} is not a pg Pool`, {
          argument: 'pool',
          value: options.pool,
          expected: 'a pg Pool (pg 8)',
        });
      }
      this.#pool = options.pool;
      this.#ownsPool = false;
    } else {
      const pg = loadPeer<PgModule>('pg', 'the PostgreSQL history store');
      const pool = new pg.Pool({
        ...(options.connectionString === undefined
          ? {}
          : { connectionString: options.connectionString }),
        connectionTimeoutMillis: this.#timeoutMs,
        statement_timeout: Math.ceil(this.#timeoutMs),
        query_timeout: this.#timeoutMs + 500,
        allowExitOnIdle: true,
      });
      // A broken idle connection is dropped by the pool and reported here; unheard, the 'error'
      // event would end the process.
      pool.on('error', () => {});
      this.#pool = pool;
      this.#ownsPool = true;
    }
  }

  async write(rollup: MinuteRollup): Promise<void> {
    checkRollup(rollup);
    const now = this.#settings.clock.epochNow();
    const { minuteFloor, hourFloor } = this.#floors(now);
    const hour = Math.floor(rollup.at / HOUR_MS) * HOUR_MS;
    const keepMinute = rollup.at >= minuteFloor;
    if (!keepMinute && hour < hourFloor) return;
    const series: unknown[] = [];
    const rows: unknown[] = [];
    const add = (
      kind: 'o' | 'm',
      item: { name: string; labels: Record<string, string> },
      row: object,
    ) => {
      const canonical = canonicalLabels(item.labels);
      const labelSet = labelSetId(canonical);
      series.push({
        kind,
        name: item.name,
        label_set: labelSet,
        labels: JSON.parse(canonical),
        last_at: rollup.at,
      });
      const base = { kind, name: item.name, label_set: labelSet, ...row };
      if (keepMinute) rows.push({ ...base, resolution: 'm', at: rollup.at });
      rows.push({ ...base, resolution: 'h', at: hour });
    };
    for (const op of rollup.operations) {
      const buckets: Record<string, number> = {};
      for (let i = 0; i < op.histogram.indexes.length; i++) {
        buckets[op.histogram.indexes[i]!] = op.histogram.counts[i]!;
      }
      add('o', op, { count: op.count, errors: op.errors, slow: op.slow, sum: op.sumMs, buckets });
    }
    for (const m of rollup.metrics) {
      add('m', m, { count: m.samples, errors: 0, slow: 0, sum: m.sum, min: m.min, max: m.max });
    }
    const written = this.#run('write', (client) =>
      this.#transaction(client, async () => {
        const marked = await this.#query(client, this.#sql.mark, [rollup.id, rollup.at]);
        if (marked.rowCount === 0 || rows.length === 0) return;
        await this.#query(client, this.#sql.upsertSeries, [JSON.stringify(series)]);
        await this.#query(client, this.#sql.upsertRows, [JSON.stringify(rows)]);
      }),
    );
    await written;
    this.#pruneNowAndThen(now);
  }

  async query(query: HistoryQuery): Promise<HistorySeries> {
    const plan = planQuery('operation', query?.operation, query, this.#settings);
    return this.#run('query', async (client) => {
      const steps = new OperationSteps(plan);
      const matched = await this.#read(client, plan, (row) => {
        const pairs = Object.entries((row.buckets ?? {}) as Record<string, unknown>).map(
          ([index, count]) => [Number(index), Number(count)] as const,
        );
        steps.add(
          Number(row.at),
          Number(row.count),
          Number(row.errors),
          Number(row.slow),
          Number(row.sum),
          normalizeBuckets(pairs),
        );
      });
      return steps.series(matched);
    });
  }

  async queryMetric(query: MetricQuery): Promise<MetricSeries> {
    const plan = planQuery('metric', query?.metric, query, this.#settings);
    return this.#run('queryMetric', async (client) => {
      const steps = new MetricSteps(plan);
      const matched = await this.#read(client, plan, (row) => {
        steps.add(
          Number(row.at),
          Number(row.count),
          Number(row.sum),
          Number(row.min),
          Number(row.max),
        );
      });
      return steps.series(matched);
    });
  }

  async series(): Promise<SeriesInfo[]> {
    return this.#run('series', async (client) => {
      const { hourFloor } = this.#floors(this.#settings.clock.epochNow());
      const { rows } = await this.#query(client, this.#sql.allSeries, [hourFloor]);
      return rows.map((row) => ({
        kind: row.kind === 'o' ? ('operation' as const) : ('metric' as const),
        name: row.name as string,
        labels: row.labels as Record<string, string>,
      }));
    });
  }

  /** Deletes minutes, hours, write ids and series past the retention, 10,000 rows a statement. */
  async prune(): Promise<void> {
    const { minuteFloor, hourFloor } = this.#floors(this.#settings.clock.epochNow());
    return this.#run('prune', async (client) => {
      const batches = async (text: string, values: unknown[]) => {
        for (;;) {
          const { rowCount } = await this.#query(client, text, values);
          if ((rowCount ?? 0) < DELETE_BATCH) return;
        }
      };
      await batches(this.#sql.deleteRows, ['m', minuteFloor]);
      await batches(this.#sql.deleteRows, ['h', hourFloor]);
      await batches(this.#sql.deleteWrites, [minuteFloor]);
      await this.#query(client, this.#sql.deleteSeries, [hourFloor]);
    });
  }

  /** Waits for a retention pass under way, then closes the pool the store created (never a given one). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#pruning?.catch(() => undefined);
      if (this.#ownsPool) await this.#pool.end();
    })();
    return this.#closing;
  }

  async #read(
    client: HistoryPgClient,
    plan: QueryPlan,
    visit: (row: Record<string, unknown>) => void,
  ): Promise<number> {
    const kind = KIND[plan.kind];
    const { hourFloor } = this.#floors(this.#settings.clock.epochNow());
    const sets = await this.#query(client, this.#sql.labelSets, [kind, plan.name, hourFloor]);
    const ids = sets.rows
      .filter((row) => labelsMatch(row.labels as Record<string, string>, plan.labels))
      .map((row) => row.label_set as string);
    checkKnown(plan, sets.rows.length > 0, ids.length);
    const from = Math.max(plan.from, plan.floor);
    if (from >= plan.to) return ids.length;
    const resolution = plan.resolution === 'hour' ? 'h' : 'm';
    const { rows } = await this.#query(client, this.#sql.rows, [
      kind,
      plan.name,
      resolution,
      ids,
      from,
      plan.to,
    ]);
    for (const row of rows) visit(row);
    return ids.length;
  }

  /** Deletes past the retention now and then, after a write, in the background. */
  #pruneNowAndThen(now: number): void {
    if (this.#pruning !== undefined || now - this.#prunedAt < this.#pruneIntervalMs) return;
    this.#prunedAt = now;
    this.#pruning = this.prune()
      .catch(() => {
        // The next interval tries again; the rows wait, and queries never answer them anyway.
      })
      .finally(() => {
        this.#pruning = undefined;
      });
  }

  #floors(now: number): { minuteFloor: number; hourFloor: number } {
    return {
      minuteFloor: Math.floor((now - this.retention.minutesMs) / MINUTE_MS) * MINUTE_MS,
      hourFloor: Math.floor((now - this.retention.hoursMs) / HOUR_MS) * HOUR_MS,
    };
  }

  #query(client: HistoryPgClient, text: string, values: unknown[] = []) {
    return client.query({ text, values, query_timeout: this.#timeoutMs });
  }

  async #transaction(client: HistoryPgClient, body: () => Promise<void>): Promise<void> {
    await this.#query(client, 'BEGIN');
    try {
      await body();
      await this.#query(client, 'COMMIT');
    } catch (error) {
      await this.#query(client, 'ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Creates the tables once; a failed attempt is forgotten, so the next call tries again. */
  #ensureTables(client: HistoryPgClient): Promise<void> {
    const present = async () =>
      (await this.#query(client, this.#sql.exists)).rows[0]?.present === true;
    this.#ready ??= (async () => {
      if (await present()) return;
      await this.#query(client, this.#sql.lock);
      // An unlock that fails fails the call, so the client is discarded with its session lock.
      try {
        // Another process may have created them while this one waited for the lock.
        if (await present()) return;
        await this.#transaction(client, async () => {
          for (const text of this.#sql.create) await this.#query(client, text);
        });
      } finally {
        await this.#query(client, this.#sql.unlock);
      }
    })().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /**
   * Runs `work` on a client of the pool, tables created first, the whole bounded by `timeoutMs`.
   * A client that failed goes back to the pool with the error, which discards its connection.
   */
  async #run<T>(operation: string, work: (client: HistoryPgClient) => Promise<T>): Promise<T> {
    const attempt = (async () => {
      if (this.#closing !== undefined) throw new Error('the store is closed');
      const client = await this.#pool.connect();
      let failure: Error | undefined;
      try {
        await this.#ensureTables(client);
        return await work(client);
      } catch (error) {
        // A refused query leaves the connection as good as it was.
        if (!(error instanceof EnterpriseError)) {
          failure = error instanceof Error ? error : new Error(String(error));
        }
        throw error;
      } finally {
        client.release(failure);
      }
    })();
    try {
      return await rejectAfter(attempt, this.#timeoutMs, `no answer within ${this.#timeoutMs} ms`);
    } catch (error) {
      if (error instanceof EnterpriseError) throw error;
      throw new HistoryStoreError(this.name, operation, error);
    }
  }
}

function positiveMs(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      `${argument}=${describeValue(value)} is invalid: expected a positive number of milliseconds`,
      { argument, value, expected: 'a positive number of milliseconds' },
    );
  }
  return value;
}
