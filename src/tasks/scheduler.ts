import type { Duration } from '../core/duration.js';
import { describeValue } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SubmitOptions, TaskDefinitionOptions } from './api-types.js';
import { TaskScheduleError } from './errors.js';
import { encodeJson } from './payload.js';
import { checkTimezone, cronSlots, intervalSlots, type ScheduleSlots } from './schedule-slots.js';
import type { TaskBackend } from './types.js';
import { checkDefinitionOptions, checkTaskId, checkTaskName } from './validate.js';

/** Options of a schedule: the task's options, plus how the schedule runs. */
export interface ScheduleOptions extends TaskDefinitionOptions {
  /** IANA time zone the cron expression is read in (`'Europe/Paris'`). @defaultValue 'UTC' */
  timezone?: string;
  /**
   * What happens to missed slots: slots whose time passed while no process could run them (every
   * process was down, or the event loop stalled past the next slot). `true`: the latest of them
   * runs once (across all processes), the older ones are skipped; `false`: all are skipped and the
   * schedule goes on with its next slot. A schedule seen for the first time never catches up.
   * @defaultValue true
   */
  catchUp?: boolean;
}

/** A schedule as `list()` shows it. */
export interface ScheduleInfo {
  name: string;
  taskName: string;
  queue: string | undefined;
  kind: 'cron' | 'every';
  /** The cron expression (cron schedules). */
  cron?: string;
  /** The interval in milliseconds (`scheduleEvery`). */
  everyMs?: number;
  timezone?: string;
  /** The next slot. */
  nextRunAt: Date;
  /** The last slot this process submitted. */
  lastRunAt?: Date;
  lastTaskId?: string;
}

interface Schedule extends ScheduleSlots {
  name: string;
  taskName: string;
  payload: unknown;
  options: ScheduleOptions;
  kind: 'cron' | 'every';
  cron?: string;
  everyMs?: number;
  timezone?: string;
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
}

const MAX_TIMER = 2_147_483_647;
/** How long "this schedule has been seen before" is remembered, for catch-up. */
const SEEN_TTL_MS = 365 * 86_400_000;
/** Waits between tries of a submit that failed (the store was unreachable), the last repeated. */
const RETRY_DELAYS_MS = [250, 1_000, 5_000, 15_000];

/**
 * The task id of a schedule's slot: the same in every process, so a slot submitted by several
 * processes (or again by one) is one task.
 */
export function scheduleTaskId(scheduleName: string, slot: number): string {
  return `schedule:${scheduleName}:${slot}`;
}

/**
 * Periodic tasks. Every process may run the scheduler: each slot is submitted under the id
 * `schedule:<name>:<slot>`, kept taken for two periods after its submission even once the task is
 * gone, so it runs exactly once however many processes submit it and whenever they do. A submit
 * that fails (the store is away) is tried again until the next slot is due.
 *
 * @example
 * ```ts
 * scheduler.schedulePeriodic('0 2 * * *', 'database_optimization', 'optimize_database', undefined, { timezone: 'Europe/Paris' });
 * scheduler.scheduleEvery('5m', 'refresh_rates', 'refresh_exchange_rates');
 * ```
 */
export class Scheduler {
  readonly #host: SchedulerHost;
  readonly #schedules = new Map<string, Schedule>();
  /** Schedules this process marked as seen in the store (catch-up applies to them from now on). */
  readonly #seen = new Set<string>();
  #started = false;

  /** @internal */
  constructor(host: SchedulerHost) {
    this.#host = host;
  }

  /**
   * Submits `taskName` at every slot of a cron expression (5 fields, or 6 with seconds first).
   * Scheduling a name again replaces the schedule.
   *
   * @throws TaskScheduleError for an expression or time zone that does not parse.
   * @example
   * ```ts
   * scheduler.schedulePeriodic('0 2 * * *', 'database_optimization', 'optimize_database', { full: true }, { timezone: 'UTC' });
   * ```
   */
  schedulePeriodic(
    cron: string,
    scheduleName: string,
    taskName: string,
    payload?: unknown,
    options: ScheduleOptions = {},
  ): ScheduleInfo {
    const timezone = checkTimezone(options.timezone);
    return this.#add({
      name: scheduleName,
      taskName,
      payload,
      options,
      kind: 'cron',
      cron,
      timezone,
      ...cronSlots(cron, timezone),
      timer: undefined,
      nextAt: undefined,
    });
  }

  /**
   * Submits `taskName` every `interval` (seconds, or a string with a unit). Slots are aligned to
   * multiples of the interval since the epoch, so every process agrees on them.
   *
   * @example
   * ```ts
   * scheduler.scheduleEvery('30s', 'poll_feeds', 'poll_rss_feeds');
   * ```
   */
  scheduleEvery(
    interval: Duration,
    scheduleName: string,
    taskName: string,
    payload?: unknown,
    options: ScheduleOptions = {},
  ): ScheduleInfo {
    return this.#add({
      name: scheduleName,
      taskName,
      payload,
      options,
      kind: 'every',
      ...intervalSlots(interval),
      timer: undefined,
      nextAt: undefined,
    });
  }

  /**
   * Removes a schedule; resolves whether there was one. Tasks already submitted still run.
   *
   * @example
   * ```ts
   * scheduler.unschedule('database_optimization');
   * ```
   */
  unschedule(scheduleName: string): boolean {
    const schedule = this.#schedules.get(scheduleName);
    if (schedule === undefined) return false;
    if (schedule.timer !== undefined) clearTimeout(schedule.timer);
    if (schedule.retry !== undefined) clearTimeout(schedule.retry);
    this.#schedules.delete(scheduleName);
    return true;
  }

  /**
   * The schedules with their next run.
   *
   * @example
   * ```ts
   * for (const s of scheduler.list()) console.log(s.name, s.nextRunAt.toISOString());
   * ```
   */
  list(): ScheduleInfo[] {
    const now = Date.now();
    return [...this.#schedules.values()].map((s) => {
      const info: ScheduleInfo = {
        name: s.name,
        taskName: s.taskName,
        queue: s.options.queue,
        kind: s.kind,
        nextRunAt: new Date(s.nextAt ?? s.next(now)),
      };
      if (s.cron !== undefined) info.cron = s.cron;
      if (s.everyMs !== undefined) info.everyMs = s.everyMs;
      if (s.timezone !== undefined) info.timezone = s.timezone;
      if (s.lastRunAt !== undefined) info.lastRunAt = new Date(s.lastRunAt);
      if (s.lastTaskId !== undefined) info.lastTaskId = s.lastTaskId;
      return info;
    });
  }

  /** @internal Arms every schedule and catches up missed slots. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const schedule of this.#schedules.values()) this.#begin(schedule);
  }

  /** @internal Stops every timer; schedules are kept. */
  stop(): void {
    this.#started = false;
    for (const schedule of this.#schedules.values()) {
      if (schedule.timer !== undefined) clearTimeout(schedule.timer);
      if (schedule.retry !== undefined) clearTimeout(schedule.retry);
      schedule.timer = undefined;
      schedule.retry = undefined;
    }
  }

  #add(schedule: Schedule): ScheduleInfo {
    if (
      typeof schedule.name !== 'string' ||
      schedule.name.trim() === '' ||
      schedule.name.length > 200
    ) {
      throw new TaskScheduleError(
        `scheduleName=${describeValue(schedule.name)} is invalid: expected a non-empty name of at most 200 characters`,
        { scheduleName: schedule.name },
      );
    }
    try {
      // The id of a slot far in the future must still be a valid task id.
      checkTaskId(scheduleTaskId(schedule.name, 10 ** 15), 'scheduleName');
    } catch {
      throw new TaskScheduleError(
        `scheduleName=${describeValue(schedule.name)} is too long: the task id of its slots (${describeValue(scheduleTaskId(schedule.name, 10 ** 15))}) would pass the 200-character limit of task ids; use a name of at most ${200 - scheduleTaskId('', 10 ** 15).length} characters`,
        { scheduleName: schedule.name },
      );
    }
    try {
      checkTaskName(schedule.taskName, 'taskName');
      checkDefinitionOptions(schedule.options, 'options');
      encodeJson(schedule.payload, 'payload');
    } catch (error) {
      throw new TaskScheduleError(
        `schedule ${schedule.name}: ${(error as Error).message}`,
        { scheduleName: schedule.name },
        error,
      );
    }
    if (schedule.options.catchUp !== undefined && typeof schedule.options.catchUp !== 'boolean') {
      throw new TaskScheduleError(
        `schedule ${schedule.name}: catchUp=${describeValue(schedule.options.catchUp)} is invalid: expected a boolean`,
        { scheduleName: schedule.name },
      );
    }
    this.unschedule(schedule.name);
    this.#schedules.set(schedule.name, schedule);
    if (this.#started) this.#begin(schedule);
    return this.list().find((s) => s.name === schedule.name)!;
  }

  #begin(schedule: Schedule): void {
    const now = Date.now();
    this.#arm(schedule, schedule.next(now));
    void this.#catchUp(schedule, now);
  }

  /**
   * At start, the latest slot before now is a missed slot when this store has seen the schedule
   * before (the first time a schedule appears, its past slots did not exist): with `catchUp` it
   * runs, once across every process (its id is taken if another process ran it).
   */
  async #catchUp(schedule: Schedule, now: number): Promise<void> {
    const latest = schedule.latest(now);
    try {
      const backend = await this.#host.backend();
      const firstSight = await backend.claimScheduleSlot(`${schedule.name}#seen`, 0, SEEN_TTL_MS);
      if (latest === undefined || firstSight || schedule.options.catchUp === false) return;
      if (this.#schedules.get(schedule.name) !== schedule || !this.#started) return;
      if (schedule.handled !== undefined && schedule.handled >= latest) return;
      schedule.handled = latest;
      this.#fire(schedule, latest, 0);
    } catch (error) {
      this.#host.log.error({ err: error, schedule: schedule.name }, 'schedule catch-up failed');
    }
  }

  #arm(schedule: Schedule, slot: number): void {
    if (schedule.timer !== undefined) clearTimeout(schedule.timer);
    schedule.nextAt = slot;
    const delay = slot - Date.now();
    schedule.timer = setTimeout(
      () => {
        schedule.timer = undefined;
        if (!this.#started || this.#schedules.get(schedule.name) !== schedule) return;
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
  #due(schedule: Schedule, slot: number, now: number): void {
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
  #fire(schedule: Schedule, slot: number, tries: number): void {
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
        const current = this.#schedules.get(schedule.name) === schedule && this.#started;
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
          if (this.#started && this.#schedules.get(schedule.name) === schedule) {
            this.#fire(schedule, slot, tries + 1);
          }
        }, wait);
        schedule.retry.unref?.();
      },
    );
  }
}
