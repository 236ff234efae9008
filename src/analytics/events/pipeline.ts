import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { rejectAfter } from '../../core/timeout.js';
import type { Pseudonymiser } from './pseudonym.js';
import type { RecentEvents } from './recent-events.js';
import type { AnalyticsModel, AnalyticsStore, TrackedEvent } from './types.js';

/** @internal What the pipeline reports to its owner. */
export interface PipelineHooks {
  /** Buffered events dropped because the buffer was full (the store away too long). */
  overflow(count: number): void;
  /** A write failed while the store was thought up. */
  storeError(error: Error, buffered: number): void;
  /** A write succeeded after an outage. */
  recovered(downMs: number, buffered: number): void;
  /** Batches written by one flush. */
  flushed(events: number, batches: number, ms: number): void;
}

/** @internal Settings of the pipeline. */
export interface PipelineOptions {
  batchSize: number;
  maxBuffered: number;
  flushIntervalMs: number;
  timeoutMs: number;
}

interface Pending {
  id: string;
  events: TrackedEvent[];
}

/** The longest wait between two tries while the store is away. */
const MAX_RETRY_MS = 5_000;

/**
 * @internal Between `track()` and the store: events wait raw in an array (a push, nothing more,
 * in the caller), and every interval, or as soon as a batch is full, they are pseudonymised,
 * sorted by time, cut into batches with an id each and written one batch at a time. A failed
 * write keeps its batch (same id, so a write whose answer was lost is not counted twice) and
 * retries with a growing wait; the buffer is bounded, the oldest batches going first.
 */
export class EventPipeline {
  readonly #store: AnalyticsStore;
  readonly #model: (now: number) => AnalyticsModel;
  readonly #pseudonyms: Pseudonymiser;
  readonly #recent: RecentEvents;
  readonly #options: PipelineOptions;
  readonly #clock: Clock;
  readonly #hooks: PipelineHooks;
  #events: string[] = [];
  #users: (string | undefined)[] = [];
  #times: number[] = [];
  #properties: (object | undefined)[] = [];
  readonly #pending: Pending[] = [];
  #pendingEvents = 0;
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Immediate | undefined;
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;
  #downSince: number | undefined;
  #failures = 0;
  #retryAt = 0;
  written = 0;
  batches = 0;
  storeErrors = 0;
  outages = 0;
  lastError: string | undefined;
  lastWriteAt: number | undefined;

  constructor(
    store: AnalyticsStore,
    model: (now: number) => AnalyticsModel,
    pseudonyms: Pseudonymiser,
    recent: RecentEvents,
    options: PipelineOptions,
    clock: Clock,
    hooks: PipelineHooks,
  ) {
    this.#store = store;
    this.#model = model;
    this.#pseudonyms = pseudonyms;
    this.#recent = recent;
    this.#options = options;
    this.#clock = clock;
    this.#hooks = hooks;
  }

  /** Events waiting, raw or in batches. */
  get buffered(): number {
    return this.#events.length + this.#pendingEvents;
  }

  /** Whether the last write failed. */
  get down(): boolean {
    return this.#downSince !== undefined;
  }

  /** Starts the flush timer (unref'd). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#tick(), this.#options.flushIntervalMs);
    this.#timer.unref();
  }

  /** Stops the timers; buffered events stay until `flush()`. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#soon !== undefined) clearImmediate(this.#soon);
    this.#soon = undefined;
  }

  /** Adds one event; false when the buffer is full. */
  push(
    event: string,
    userId: string | undefined,
    at: number,
    properties: object | undefined,
  ): boolean {
    const waiting = this.#events.length;
    if (waiting + this.#pendingEvents >= this.#options.maxBuffered) return false;
    this.#events.push(event);
    this.#users.push(userId);
    this.#times.push(at);
    this.#properties.push(properties);
    if (
      waiting + 1 >= this.#options.batchSize &&
      this.#soon === undefined &&
      this.#timer !== undefined
    ) {
      this.#soon = setImmediate(() => {
        this.#soon = undefined;
        this.#tick();
      });
      this.#soon.unref();
    }
    return true;
  }

  /** Writes everything buffered now, even while waiting to retry. Never rejects. */
  flush(): Promise<void> {
    this.#queued++;
    this.#chain = this.#chain
      .then(() => this.#drain(true))
      .catch(() => undefined)
      .finally(() => this.#queued--);
    return this.#chain;
  }

  /** Events that could not be written, dropped (at close). */
  discard(): number {
    this.#convert();
    const lost = this.#pendingEvents;
    this.#pending.length = 0;
    this.#pendingEvents = 0;
    return lost;
  }

  #tick(): void {
    if (this.#queued > 0) return;
    this.#queued++;
    this.#chain = this.#chain
      .then(() => this.#drain(false))
      .catch(() => undefined)
      .finally(() => this.#queued--);
  }

  /** Pseudonymises and sorts the raw events, and cuts them into batches. */
  #convert(): void {
    const count = this.#events.length;
    if (count === 0) return;
    const events = this.#events;
    const users = this.#users;
    const times = this.#times;
    const properties = this.#properties;
    this.#events = [];
    this.#users = [];
    this.#times = [];
    this.#properties = [];
    const order = Array.from({ length: count }, (_, i) => i);
    // Stable: events of one millisecond keep the order they were tracked in.
    order.sort((a, b) => times[a]! - times[b]!);
    const recentFrom = count - this.#recent.size;
    const tracked: TrackedEvent[] = new Array(count);
    for (let n = 0; n < count; n++) {
      const i = order[n]!;
      const userId = users[i];
      const user = userId === undefined ? undefined : this.#pseudonyms.of(userId);
      tracked[n] =
        user === undefined
          ? { event: events[i]!, at: times[i]! }
          : { event: events[i]!, user, at: times[i]! };
      if (i >= recentFrom) this.#recent.add(events[i]!, user, times[i]!, properties[i]);
    }
    const size = this.#options.batchSize;
    for (let n = 0; n < count; n += size) {
      const slice = tracked.slice(n, n + size);
      this.#pending.push({ id: randomUUID(), events: slice });
      this.#pendingEvents += slice.length;
    }
    let dropped = 0;
    while (this.#pendingEvents > this.#options.maxBuffered && this.#pending.length > 0) {
      const oldest = this.#pending.shift()!;
      this.#pendingEvents -= oldest.events.length;
      dropped += oldest.events.length;
    }
    if (dropped > 0) this.#hooks.overflow(dropped);
  }

  async #drain(force: boolean): Promise<void> {
    this.#convert();
    const started = this.#clock.now();
    let events = 0;
    let batches = 0;
    while (this.#pending.length > 0) {
      if (this.#downSince !== undefined && !force && this.#clock.now() < this.#retryAt) break;
      const batch = this.#pending[0]!;
      try {
        const model = this.#model(this.#clock.epochNow());
        await rejectAfter(
          Promise.resolve().then(() =>
            this.#store.record({ id: batch.id, events: batch.events, model }),
          ),
          this.#options.timeoutMs,
          `analytics: the store did not take a batch within ${this.#options.timeoutMs} ms`,
        );
      } catch (error) {
        this.#failed(error);
        break;
      }
      // close() may have discarded the backlog while this write was under way.
      if (this.#pending[0] === batch) {
        this.#pending.shift();
        this.#pendingEvents -= batch.events.length;
      }
      events += batch.events.length;
      batches++;
      this.written += batch.events.length;
      this.batches++;
      this.lastWriteAt = this.#clock.epochNow();
      if (this.#downSince !== undefined) {
        const downMs = this.#clock.now() - this.#downSince;
        this.#downSince = undefined;
        this.#failures = 0;
        this.#hooks.recovered(downMs, this.buffered);
      }
    }
    if (batches > 0) this.#hooks.flushed(events, batches, this.#clock.now() - started);
  }

  #failed(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    this.storeErrors++;
    this.lastError = failure.message;
    this.#failures++;
    const wait = Math.min(MAX_RETRY_MS, this.#options.flushIntervalMs * 2 ** (this.#failures - 1));
    this.#retryAt = this.#clock.now() + wait;
    if (this.#downSince !== undefined) return;
    this.#downSince = this.#clock.now();
    this.outages++;
    this.#hooks.storeError(failure, this.buffered);
  }
}
