import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../../core/clock.js';
import { describeValue, InvalidArgumentError } from '../../core/errors.js';
import { createDefaultLogger, type Logger } from '../../core/logger.js';
import { rejectAfter } from '../../core/timeout.js';
import { FigureSamples } from './figure-samples.js';
import type { HistoryFigure, HistoryFigureSource } from './figures.js';
import { OperationDeltas, type OperationTotalsSource } from './operation-deltas.js';
import { PendingRollups } from './pending-rollups.js';
import { MINUTE_MS } from './store-settings.js';
import type { HistoryStore, MinuteRollup } from './types.js';

/**
 * Options of {@link HistoryRecorder}.
 *
 * @example
 * ```ts
 * const options: HistoryRecorderOptions = {
 *   store: new MemoryHistoryStore(),
 *   operations: enterprise.performance,
 *   figures: [() => systemFigures(enterprise.performance.system())],
 * };
 * ```
 */
export interface HistoryRecorderOptions {
  /** Where the minutes go. */
  store: HistoryStore;
  /** The operations' running totals: the performance monitor. */
  operations?: OperationTotalsSource;
  /** Functions returning figures (system, cache, tasks, your own), called at each sample. */
  figures?: readonly HistoryFigureSource[];
  /** How often figures are sampled; divides a minute. @defaultValue 10000 */
  sampleIntervalMs?: number;
  /** Longest wait for an async figure source at a sample. @defaultValue 5000 */
  sourceTimeoutMs?: number;
  /** Longest wait for one write of the store. @defaultValue 5000 */
  writeTimeoutMs?: number;
  /** Closed minutes kept while the store is unavailable; older ones are dropped. @defaultValue 60 */
  maxPendingMinutes?: number;
  /** Names this recorder's rollups (unique per process). @defaultValue a random id */
  instanceId?: string;
  /** Wall-clock time (`epochNow()`) for minutes and samples. @defaultValue the system clock */
  clock?: Clock;
  logger?: Logger;
}

/** What {@link HistoryRecorder.status} reports. */
export interface HistoryRecorderStatus {
  running: boolean;
  /** Closed minutes not written yet (the store was unavailable). */
  pendingMinutes: number;
  /** Minutes dropped because the store stayed unavailable past `maxPendingMinutes`. */
  droppedMinutes: number;
  /** Whether the last write failed. */
  storeDown: boolean;
  /** Start of the last minute written, epoch milliseconds. */
  lastWrittenAt: number | null;
  lastError: string | null;
}

/**
 * Writes the metrics history: every minute it closes the minute — each operation's calls, errors
 * and histogram buckets since the previous minute (the difference of the monitor's running
 * totals, so nothing is sampled or averaged), and the figures sampled every `sampleIntervalMs` —
 * and writes it to the store. While the store is unavailable the closed minutes wait in memory
 * (`maxPendingMinutes`) and are written in order once it answers again. Its timer is unref'd;
 * nothing it does throws or leaves a rejection unhandled.
 *
 * @example
 * ```ts
 * const recorder = new HistoryRecorder({
 *   store: new RedisHistoryStore({ url: process.env.REDIS_URL }),
 *   operations: enterprise.performance,
 *   figures: [() => systemFigures(enterprise.performance.system())],
 * });
 * recorder.start();
 * // ...
 * await recorder.stop();
 * ```
 */
export class HistoryRecorder {
  /** Names this recorder's rollups. */
  readonly instanceId: string;
  readonly #store: HistoryStore;
  readonly #operations: OperationTotalsSource | undefined;
  readonly #sources: readonly HistoryFigureSource[];
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sampleMs: number;
  readonly #sourceTimeoutMs: number;
  readonly #deltas = new OperationDeltas();
  readonly #samples = new FigureSamples();
  readonly #pending: PendingRollups;
  /** Start of the minute being recorded. */
  #open: number;
  #sequence = 0;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #sourceFailures = new WeakSet<HistoryFigureSource>();

  constructor(options: HistoryRecorderOptions) {
    const store = options?.store;
    if (typeof store?.write !== 'function') {
      throw new InvalidArgumentError(`store=${describeValue(store)} is not a HistoryStore`, {
        argument: 'store',
        value: store,
        expected: 'a HistoryStore',
      });
    }
    if (
      options.operations !== undefined &&
      typeof options.operations?.operationTotals !== 'function'
    ) {
      throw new InvalidArgumentError('operations has no operationTotals() method', {
        argument: 'operations',
        value: options.operations,
        expected: 'the performance monitor, or an object with operationTotals()',
      });
    }
    const sources = options.figures ?? [];
    if (!Array.isArray(sources) || sources.some((s) => typeof s !== 'function')) {
      throw new InvalidArgumentError('figures must be an array of functions', {
        argument: 'figures',
        value: sources,
        expected: 'an array of functions returning figures',
      });
    }
    this.#sampleMs = positive(options.sampleIntervalMs ?? 10_000, 'sampleIntervalMs');
    if (this.#sampleMs < 1_000 || MINUTE_MS % this.#sampleMs !== 0) {
      throw new InvalidArgumentError(
        `sampleIntervalMs=${this.#sampleMs} is invalid: expected at least 1000 ms and a divisor of a minute`,
        {
          argument: 'sampleIntervalMs',
          value: this.#sampleMs,
          expected: 'a divisor of 60000 of at least 1000',
        },
      );
    }
    this.#sourceTimeoutMs = positive(options.sourceTimeoutMs ?? 5_000, 'sourceTimeoutMs');
    const writeTimeoutMs = positive(options.writeTimeoutMs ?? 5_000, 'writeTimeoutMs');
    const maxPending = options.maxPendingMinutes ?? 60;
    if (!Number.isInteger(maxPending) || maxPending < 1) {
      throw new InvalidArgumentError(
        `maxPendingMinutes=${describeValue(maxPending)} is invalid: expected a positive whole number`,
        { argument: 'maxPendingMinutes', value: maxPending, expected: 'a positive whole number' },
      );
    }
    this.#store = store;
    this.#operations = options.operations;
    this.#sources = [...sources];
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? createDefaultLogger('info')).child({ module: 'history' });
    this.instanceId = options.instanceId ?? randomUUID().slice(0, 8);
    this.#pending = new PendingRollups(store, maxPending, writeTimeoutMs, this.#log);
    this.#open = floorMinute(this.#clock.epochNow());
    // Calls recorded before the recorder existed belong to no minute it will close.
    this.#readOperations(true);
  }

  /** Whether the timer runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts sampling and closing minutes on an unref'd timer. Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#schedule();
  }

  /**
   * Stops the timer, closes the minute under way (so its calls are not lost) and tries once more,
   * within the write timeout, to write what is pending. Never rejects.
   */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
    this.#close(this.#open);
    await this.#pending.flush();
  }

  /**
   * One step of the timer, for tests on a fake clock and for hosts that drive it themselves:
   * samples the figures, closes the minute when the clock has left it, and writes what is pending.
   * A call while one is under way shares it. Never rejects.
   *
   * @example
   * ```ts
   * clock.advance(60_000);
   * await recorder.tick(); // the previous minute is closed and written
   * ```
   */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  /** How the recorder is doing: minutes pending and dropped, the store's state. */
  status(): HistoryRecorderStatus {
    return {
      running: this.running,
      pendingMinutes: this.#pending.size,
      droppedMinutes: this.#pending.dropped,
      storeDown: this.#pending.down,
      lastWrittenAt: this.#pending.lastWrittenAt ?? null,
      lastError: this.#pending.lastError ?? null,
    };
  }

  async #tick(): Promise<void> {
    try {
      const now = this.#clock.epochNow();
      await this.#sample();
      const minute = floorMinute(now);
      // A minute left behind is closed under the last minute that ended: after a stall of the
      // event loop or a suspended process, its calls go to the minute the stall ended in.
      if (minute > this.#open) this.#close(minute - MINUTE_MS);
      this.#open = Math.max(this.#open, minute);
      await this.#pending.flush();
    } catch (error) {
      this.#log.error({ err: error }, 'history recorder tick failed');
    }
  }

  /** Samples every figure source, each bounded by the source timeout. */
  async #sample(): Promise<void> {
    if (this.#sources.length === 0) return;
    const results = await Promise.all(
      this.#sources.map(async (source) => {
        try {
          const figures = await rejectAfter(
            Promise.resolve().then(source),
            this.#sourceTimeoutMs,
            `no figures within ${this.#sourceTimeoutMs} ms`,
          );
          this.#sourceFailures.delete(source);
          return Array.isArray(figures) ? (figures as HistoryFigure[]) : [];
        } catch (error) {
          if (!this.#sourceFailures.has(source)) {
            this.#sourceFailures.add(source);
            this.#log.warn(
              { err: error },
              'a history figure source failed; its figures are skipped',
            );
          }
          return [];
        }
      }),
    );
    for (const figures of results) this.#samples.add(figures);
  }

  /** Closes the minute under way as the rollup of `at` and queues it for writing. */
  #close(at: number): void {
    const rollup: MinuteRollup = {
      id: `${this.instanceId}:${at}:${this.#sequence++}`,
      at,
      operations: this.#readOperations(false),
      metrics: this.#samples.take(),
    };
    if (rollup.operations.length > 0 || rollup.metrics.length > 0) this.#pending.push(rollup);
  }

  #readOperations(baseline: boolean): MinuteRollup['operations'] {
    if (this.#operations === undefined) return [];
    try {
      const snapshot = this.#operations.operationTotals();
      if (baseline) {
        this.#deltas.baseline(snapshot);
        return [];
      }
      return this.#deltas.take(snapshot);
    } catch (error) {
      this.#log.warn({ err: error }, 'reading the operations for the history failed');
      return [];
    }
  }

  /** Runs the next tick at the next multiple of the sample interval, on an unref'd timer. */
  #schedule(): void {
    const now = this.#clock.epochNow();
    const delay = this.#sampleMs - (now % this.#sampleMs) + 5;
    this.#timer = setTimeout(() => {
      void this.tick().finally(() => {
        if (this.#timer !== undefined) this.#schedule();
      });
    }, delay);
    this.#timer.unref();
  }
}

const floorMinute = (epochMs: number) => Math.floor(epochMs / MINUTE_MS) * MINUTE_MS;

function positive(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      `${argument}=${describeValue(value)} is invalid: expected a positive number of milliseconds`,
      { argument, value, expected: 'a positive number of milliseconds' },
    );
  }
  return value;
}
