import type { Clock } from '../core/clock.js';
import { rejectAfter } from '../core/timeout.js';
import type { CompiledRule } from './rule.js';
import type { RuleRuntime } from './series.js';
import type { SeriesValue, ValueSource } from './types.js';

/** The labels of a rule's watch function's one series. */
const NO_LABELS = Object.freeze({});

/**
 * @internal What one evaluation read for a rule: the series, or why the read failed, and when it
 * answered. Kept from one evaluation to the next and filled again, so reading allocates nothing
 * beyond what the source returns.
 */
export class ReadSlot {
  /** The evaluation whose read the slot holds. */
  tick = 0;
  /** What the source returned (checked to be an array when judged). */
  values: unknown = undefined;
  failed = false;
  error: unknown = undefined;
  /** clock.now() when the read answered or failed. */
  doneAt = 0;
  /** The one series of a watch function, refilled at each read. */
  #single: SeriesValue[] | undefined;

  answer(values: unknown, at: number): void {
    this.values = values;
    this.failed = false;
    this.error = undefined;
    this.doneAt = at;
  }

  fail(error: unknown, at: number): void {
    this.values = undefined;
    this.failed = true;
    this.error = error;
    this.doneAt = at;
  }

  /** Lets go of the values or the error, once judged. */
  clear(): void {
    this.values = undefined;
    this.error = undefined;
  }

  /** A watch function's answer, as the one series it stands for. */
  answerWatch(value: unknown, at: number): void {
    if (
      value === null ||
      value === undefined ||
      (typeof value === 'number' && Number.isNaN(value))
    ) {
      this.answer(this.#one(null), at);
    } else if (typeof value !== 'number') {
      this.fail(new Error(`the watch function returned ${typeof value}, not a number`), at);
    } else {
      this.answer(this.#one(value), at);
    }
  }

  #one(value: number | null): SeriesValue[] {
    const single = (this.#single ??= [{ labels: NO_LABELS, value: null }]);
    single[0]!.value = value;
    return single;
  }
}

/**
 * @internal The reads of one evaluation: each source read at most once whatever the number of
 * rules that watch it, each watch function called once per rule. A source or function that
 * answers at once is read there and then; one that returns a promise is bounded by the timeout,
 * and {@link SourceReads.settled} waits for it. Rules are judged once every read has answered,
 * with no await in between, so no one sees a tick half judged.
 */
export class SourceReads {
  readonly #sources: ReadonlyMap<string, ValueSource>;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #bySource = new WeakMap<ValueSource, ReadSlot>();
  readonly #byRule = new WeakMap<RuleRuntime, ReadSlot>();
  readonly #pending: Promise<void>[] = [];
  /** The slots read this evaluation, to let go of what they hold once it is judged. */
  readonly #read: ReadSlot[] = [];
  #tick = 0;

  constructor(sources: ReadonlyMap<string, ValueSource>, timeoutMs: number, clock: Clock) {
    this.#sources = sources;
    this.#timeoutMs = timeoutMs;
    this.#clock = clock;
  }

  /** Starts the reads of a new evaluation. */
  begin(): void {
    this.#tick++;
    this.#pending.length = 0;
  }

  /**
   * Starts the read `runtime` needs, unless this evaluation did already; returns the slot that
   * holds (or will hold, once {@link SourceReads.settled}) what it gave.
   */
  start(runtime: RuleRuntime): ReadSlot {
    const { watch } = runtime.rule;
    if (typeof watch !== 'string') {
      const slot = this.#slot(this.#byRule, runtime);
      if (slot.tick !== this.#tick) {
        slot.tick = this.#tick;
        this.#read.push(slot);
        this.#readInto(slot, runtime.rule, undefined);
      }
      return slot;
    }
    const source = this.#sources.get(watch);
    if (source === undefined) {
      const slot = new ReadSlot();
      slot.fail(new Error(`no value source named "${watch}"`), this.#clock.now());
      return slot;
    }
    const slot = this.#slot(this.#bySource, source);
    if (slot.tick !== this.#tick) {
      slot.tick = this.#tick;
      this.#read.push(slot);
      this.#readInto(slot, runtime.rule, source);
    }
    return slot;
  }

  /**
   * Lets go of what this evaluation read, once judged: a slot kept until the next evaluation
   * would keep every series a source returned alive that long, for the collector to copy.
   */
  release(): void {
    for (const slot of this.#read) slot.clear();
    this.#read.length = 0;
  }

  /** Settles once every pending read has answered or timed out; `undefined` when none is pending. */
  settled(): Promise<unknown> | undefined {
    return this.#pending.length === 0 ? undefined : Promise.all(this.#pending);
  }

  #slot<K extends object>(slots: WeakMap<K, ReadSlot>, key: K): ReadSlot {
    let slot = slots.get(key);
    if (slot === undefined) {
      slot = new ReadSlot();
      slots.set(key, slot);
    }
    return slot;
  }

  /** Reads `source`, or the rule's watch function when there is none, into `slot`. */
  #readInto(slot: ReadSlot, rule: CompiledRule, source: ValueSource | undefined): void {
    const clock = this.#clock;
    const watch = source === undefined;
    let result: unknown;
    try {
      result = watch ? (rule.watch as () => unknown)() : source.read();
    } catch (error) {
      slot.fail(error, clock.now());
      return;
    }
    // An answer given at once cannot be late: only a pending one needs a timer.
    if (typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') {
      if (watch) slot.answerWatch(result, clock.now());
      else slot.answer(result, clock.now());
      return;
    }
    const timeoutMs = this.#timeoutMs;
    const what = watch ? `rule "${rule.name}"'s watch function` : `value source "${rule.watch}"`;
    this.#pending.push(
      rejectAfter(
        Promise.resolve(result),
        timeoutMs,
        `${what} did not answer within ${timeoutMs} ms`,
      ).then(
        (value) => (watch ? slot.answerWatch(value, clock.now()) : slot.answer(value, clock.now())),
        (error: unknown) => slot.fail(error, clock.now()),
      ),
    );
  }
}
