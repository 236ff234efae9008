// Stores, clocks and writers shared by the tests of rules seeded from the metrics history.
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach } from 'vitest';
import { Alerts } from '../../../src/alerts/alerts.js';
import type { AlertHistoryReader } from '../../../src/alerts/history-reader.js';
import type { AlertsOptions } from '../../../src/alerts/options.js';
import type { ValueSource } from '../../../src/alerts/types.js';
import { MemoryHistoryStore } from '../../../src/analytics/history/memory-store.js';
import { PostgresHistoryStore } from '../../../src/analytics/history/postgres-store.js';
import { RedisHistoryStore } from '../../../src/analytics/history/redis-store.js';
import type { HistoryStore, MetricRollup } from '../../../src/analytics/history/types.js';
import { alertHistoryReader } from '../../../src/compose/alert-history.js';
import type { Clock } from '../../../src/core/clock.js';
import { POSTGRES_URL, postgres, REDIS_URL, redis, requires } from '../../support/requirements.js';
import { memoryLogger, recorder } from '../engine/helpers.js';

export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** A clock the test moves by hand, on wall time a few minutes ago (stores expire real keys). */
export interface SeedClock extends Clock {
  t: number;
  /** The start of the minute the engine starts in. */
  readonly minute: number;
  advance(ms: number): void;
}

/** Starts `secondsIn` seconds into a minute a few minutes before `now`. */
export function seedClock(secondsIn = 40, now = Date.now()): SeedClock {
  const minute = Math.floor(now / MINUTE) * MINUTE - 5 * MINUTE;
  const clock: SeedClock = {
    t: 0,
    minute,
    now: () => clock.t,
    epochNow: () => minute + secondsIn * SECOND + clock.t,
    advance: (ms) => {
      clock.t += ms;
    },
  };
  return clock;
}

/** A history store of one kind on `clock`, and what removes what it wrote. */
export interface StoreCase {
  name: string;
  available: boolean;
  open(clock: Clock): { store: HistoryStore; cleanup(): Promise<void> };
}

/** What {@link seededStores} opens for one test: a seed clock, a store on it, and its start. */
export interface SeededStore {
  clock: SeedClock;
  store: HistoryStore;
  /** The clock's wall time when the test starts. */
  start: number;
}

/**
 * Opens a store of `kind` on a fresh {@link seedClock} for each call, and removes what each wrote
 * after the test of the enclosing `describe`.
 */
export function seededStores(kind: StoreCase): () => SeededStore {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  return () => {
    const clock = seedClock();
    const { store, cleanup } = kind.open(clock);
    cleanups.push(cleanup);
    return { clock, store, start: clock.epochNow() };
  };
}

export const STORES: StoreCase[] = [
  {
    name: 'memory',
    available: true,
    // Hours for more than the week the seasonal baseline learns from.
    open: (clock) => ({
      store: new MemoryHistoryStore({ clock, retention: { hours: '8d' } }),
      cleanup: async () => undefined,
    }),
  },
  {
    name: 'redis',
    available: requires(redis),
    open(clock) {
      const prefix = `test:alert-history:${randomUUID()}`;
      const store = new RedisHistoryStore({ url: REDIS_URL, prefix, clock });
      return {
        store,
        async cleanup() {
          await store.close();
          const admin = new Redis(REDIS_URL);
          try {
            let cursor = '0';
            do {
              const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
              cursor = next;
              if (keys.length > 0) await admin.del(...keys);
            } while (cursor !== '0');
          } finally {
            await admin.quit();
          }
        },
      };
    },
  },
  {
    name: 'postgres',
    available: requires(postgres),
    open(clock) {
      const schema = `alert_history_${randomBytes(6).toString('hex')}`;
      const store = new PostgresHistoryStore({
        connectionString: POSTGRES_URL,
        table: `${schema}.history`,
        clock,
      });
      return {
        store,
        async cleanup() {
          await store.close();
          const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
          try {
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          } finally {
            await admin.end();
          }
        },
      };
    },
  },
];

/** A figure's rollup for one minute: one sample of `value`. */
export function metricRollup(name: string, value: number, labels = {}): MetricRollup {
  return { name, labels, samples: 1, sum: value, min: value, max: value };
}

/** Writes one rollup per `every` from `from` (inclusive) to `to` (exclusive), a few at a time. */
export async function writeMinutes(
  store: HistoryStore,
  from: number,
  to: number,
  every: number,
  metrics: (minute: number) => MetricRollup[],
): Promise<void> {
  const minutes: number[] = [];
  for (let at = Math.floor(from / MINUTE) * MINUTE; at < to; at += every) minutes.push(at);
  for (let i = 0; i < minutes.length; i += 16) {
    await Promise.all(
      minutes
        .slice(i, i + 16)
        .map((at) => store.write({ id: `seed:${at}`, at, operations: [], metrics: metrics(at) })),
    );
  }
}

/** A source of one series without labels whose value the test sets. */
export function gaugeSource(name: string, initial: number) {
  const gauge = { value: initial };
  const source: ValueSource = { name, read: () => [{ labels: {}, value: gauge.value }] };
  return { gauge, source };
}

/** An engine on `clock` reading `history` (none with `false`), its logger and deliveries. */
export function engine(
  clock: SeedClock,
  history: AlertHistoryReader | false,
  options: AlertsOptions,
) {
  const logger = memoryLogger();
  const rec = recorder();
  const alerts = new Alerts({
    evaluationInterval: '15s',
    clock,
    logger,
    deliver: rec.deliver,
    history,
    ...options,
  });
  return { alerts, logger, rec };
}

/**
 * Starts `alerts` and stops its timer at once: the replay goes on, and the test evaluates by
 * hand on its clock.
 */
export function startByHand(alerts: Alerts): void {
  alerts.start();
  alerts.stop();
}

export { alertHistoryReader };
