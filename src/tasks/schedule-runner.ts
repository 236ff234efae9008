// The timers of a scheduler: one per schedule, armed on its next slot; each slot submitted under
// its slot id (so every process may submit it and it runs once), missed slots caught up once.
import type { Logger } from '../core/logger.js';
import type { SubmitOptions } from './api-types.js';
import { scheduleTaskId } from './schedule-checks.js';
import type { ScheduleSlots } from './schedule-slots.js';
import type { ScheduleOptions } from './schedule-types.js';
import type { TaskBackend } from './types.js';

/** @internal A schedule as its timers need it. */
export interface RunnableSchedule extends ScheduleSlots {
  name: string;
  taskName: string;
  payload: unknown;
  options: ScheduleOptions;
  timer: NodeJS.Timeout | undefined;
  nextAt: number | undefined;
  lastRunAt?: number;
  lastTaskId?: string;
  /** The latest slot this process handled (fired, or decided to skip). */
  handled?: number;
  /** A failed submit waiting to be tried again. */
  retry?: NodeJS.Timeout;
}

/** What the scheduler needs from its manager. @internal */
export interface SchedulerHost {
  backend(): Promise<TaskBackend>;
  /** Submits one task; resolves whether this call created it (its id may be taken). */
  submit(
    name: string,
    payload: unknown,
    options: SubmitOptions,
  ): Promise<{ id: string; created: boolean }>;
  readonly log: Logger;
  /** How often the stored schedules are read again (ms). @defaultValue 5000 */
  readonly syncMs?: number;
}

const MAX_TIMER = 2_147_483_647;
/** How long "this schedule has been seen before" is remembered, for catch-up. */
const SEEN_TTL_MS = 365 * 86_400_000;
/** Waits between tries of a submit that failed (the store was unreachable), the last repeated. */
const RETRY_DELAYS_MS = [250, 1_000, 5_000, 15_000];

/** @internal Runs the slots of the schedules it is given while `live(schedule)` holds. */
export class SlotRunner {
  readonly #host: SchedulerHost;
  readonly #live: (schedule: RunnableSchedule) => boolean;
  /** Schedules this process marked as seen in the store (catch-up applies to them from now on). */
  readonly #seen = new Set<string>();

  constructor(host: SchedulerHost, live: (schedule: RunnableSchedule) => boolean) {
    this.#host = host;
    this.#live = live;
  }

  /** Stops the schedule's timers. */
  disarm(schedule: RunnableSchedule): void {
    if (schedule.timer !== undefined) clearTimeout(schedule.timer);
    if (schedule.retry !== undefined) clearTimeout(schedule.retry);
    schedule.timer = undefined;
    schedule.retry = undefined;
  }

  /** Arms `schedule` on its next slot and catches up a missed one. */
  begin(schedule: RunnableSchedule): void {
    const now = Date.now();
    this.#arm(schedule, schedule.next(now));
    void this.#catchUp(schedule, now);
  }

  /**
   * At start, the latest slot before now is a missed slot when this store has seen the schedule
   * before (the first time a schedule appears, its past slots did not exist): with `catchUp` it
   * runs, once across every process (its id is taken if another process ran it).
   */
  async #catchUp(schedule: RunnableSchedule, now: number): Promise<void> {
    const latest = schedule.latest(now);
    try {
      const backend = await this.#host.backend();
      const firstSight = await backend.claimScheduleSlot(`${schedule.name}#seen`, 0, SEEN_TTL_MS);
      if (latest === undefined || firstSight || schedule.options.catchUp === false) return;
      if (!this.#live(schedule)) return;
      if (schedule.handled !== undefined && schedule.handled >= latest) return;
      schedule.handled = latest;
      this.#fire(schedule, latest, 0);
    } catch (error) {
      this.#host.log.error({ err: error, schedule: schedule.name }, 'schedule catch-up failed');
    }
  }

  #arm(schedule: RunnableSchedule, slot: number): void {
    if (schedule.timer !== undefined) clearTimeout(schedule.timer);
    schedule.nextAt = slot;
    const delay = slot - Date.now();
    schedule.timer = setTimeout(
      () => {
        schedule.timer = undefined;
        if (!this.#live(schedule)) return;
        const now = Date.now();
        // A wait longer than a timer can hold is done in steps.
        if (now < slot) return this.#arm(schedule, slot);
        this.#due(schedule, slot, now);
        this.#arm(schedule, schedule.next(now));
      },
      Math.min(MAX_TIMER, Math.max(0, delay)),
    );
    schedule.timer.unref?.();
  }

  /**
   * The timer of `slot` fired at `now`. When a later slot is due too (the event loop stalled past
   * it), the slots up to now were missed and follow the catch-up policy, as at start: the latest
   * runs once with `catchUp`, none without. Never one submit per missed slot.
   */
  #due(schedule: RunnableSchedule, slot: number, now: number): void {
    const latest = schedule.latest(now) ?? slot;
    if (schedule.handled !== undefined && schedule.handled >= latest) return;
    schedule.handled = latest;
    if (latest > slot) {
      const skipped =
        schedule.options.catchUp === false ? 'every missed slot' : 'all but the latest';
      this.#host.log.warn(
        { schedule: schedule.name, slot, latest },
        `schedule timer fired late (event loop stalled?): ${skipped} skipped`,
      );
      if (schedule.options.catchUp === false) return;
    }
    this.#fire(schedule, latest, 0);
  }

  /**
   * Submits `slot` under its id, kept taken for two periods (and a minute): a process that submits
   * the same slot later, or again, creates nothing. A failed submit is tried again after a pause,
   * until the next slot is due (that slot then follows the catch-up policy).
   */
  #fire(schedule: RunnableSchedule, slot: number, tries: number): void {
    const periodMs = Math.max(1_000, schedule.next(slot) - slot);
    const { timezone: _tz, catchUp: _catchUp, ...taskOptions } = schedule.options;
    const id = scheduleTaskId(schedule.name, slot);
    const submitted = this.#host.submit(schedule.taskName, schedule.payload, {
      ...taskOptions,
      id,
      uniqueFor: `${2 * periodMs + 60_000}ms`,
      allowUnknown: true,
    });
    submitted.then(
      ({ created }) => {
        if (!created) return;
        schedule.lastRunAt = slot;
        schedule.lastTaskId = id;
        if (this.#seen.has(schedule.name)) return;
        this.#seen.add(schedule.name);
        void this.#host
          .backend()
          .then((backend) => backend.claimScheduleSlot(`${schedule.name}#seen`, 0, SEEN_TTL_MS))
          .catch(() => this.#seen.delete(schedule.name));
      },
      (error: unknown) => {
        const wait = RETRY_DELAYS_MS[Math.min(tries, RETRY_DELAYS_MS.length - 1)]!;
        const current = this.#live(schedule);
        if (!current || Date.now() + wait >= schedule.next(slot)) {
          this.#host.log.error(
            { err: error, schedule: schedule.name, slot },
            'scheduled submit failed; the slot is skipped',
          );
          return;
        }
        this.#host.log.warn(
          { err: error, schedule: schedule.name, slot, retryInMs: wait },
          'scheduled submit failed; trying again',
        );
        if (schedule.retry !== undefined) clearTimeout(schedule.retry);
        schedule.retry = setTimeout(() => {
          schedule.retry = undefined;
          if (this.#live(schedule)) {
            this.#fire(schedule, slot, tries + 1);
          }
        }, wait);
        schedule.retry.unref?.();
      },
    );
  }
}
