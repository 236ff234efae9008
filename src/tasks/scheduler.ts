import { createRequire } from 'node:module';
import type * as CronParser from 'cron-parser';
import { type Duration, parseDuration } from '../core/duration.js';
import { describeValue } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { TaskScheduleError } from './errors.js';
import { encodeJson } from './payload.js';
import type { SubmitOptions, TaskDefinitionOptions } from './task-types.js';
import type { TaskBackend } from './types.js';
import { checkDefinitionOptions, checkTaskName } from './validate.js';

/** Options of a schedule: the task's options, plus how the schedule runs. */
export interface ScheduleOptions extends TaskDefinitionOptions {
  /** IANA time zone the cron expression is read in (`'Europe/Paris'`). @defaultValue 'UTC' */
  timezone?: string;
  /**
   * When the latest slot was missed (every process was down at that time), run it once at start.
   * A schedule seen for the first time never catches up. @defaultValue true
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

interface Schedule {
  name: string;
  taskName: string;
  payload: unknown;
  options: ScheduleOptions;
  kind: 'cron' | 'every';
  cron?: string;
  everyMs?: number;
  timezone?: string;
  /** The first slot strictly after `after`. */
  next(after: number): number;
  /** The latest slot at or before `at`. */
  latest(at: number): number | undefined;
  timer: NodeJS.Timeout | undefined;
  nextAt: number | undefined;
  lastRunAt?: number;
  lastTaskId?: string;
}

/** What the scheduler needs from its manager. @internal */
export interface SchedulerHost {
  backend(): Promise<TaskBackend>;
  submit(name: string, payload: unknown, options: SubmitOptions): Promise<string>;
  readonly log: Logger;
}

const MAX_TIMER = 2_147_483_647;
/** How long "this schedule has been seen before" is remembered, for catch-up. */
const SEEN_TTL_MS = 365 * 86_400_000;

/**
 * Periodic tasks. Every process may run the scheduler: each slot is claimed in the backend
 * (`claimScheduleSlot`) and submitted under the id `schedule:<name>:<slot>`, so it runs exactly
 * once however many processes schedule it.
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
    if (typeof cron !== 'string' || cron.trim() === '') {
      throw new TaskScheduleError(`cron=${describeValue(cron)} is not a cron expression`, { cron });
    }
    const { CronExpressionParser } = cronParser();
    const parse = (currentDate: number) =>
      CronExpressionParser.parse(cron, {
        currentDate: new Date(currentDate),
        tz: timezone ?? 'UTC',
      });
    try {
      parse(Date.now()).next();
    } catch (error) {
      throw new TaskScheduleError(
        `cron expression ${JSON.stringify(cron)} does not parse: ${(error as Error).message}`,
        { cron, timezone },
        error,
      );
    }
    return this.#add({
      name: scheduleName,
      taskName,
      payload,
      options,
      kind: 'cron',
      cron,
      timezone,
      next: (after) => parse(after).next().getTime(),
      latest: (at) => {
        try {
          return parse(at + 1)
            .prev()
            .getTime();
        } catch {
          return undefined;
        }
      },
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
    let everyMs: number;
    try {
      everyMs = parseDuration(interval, 'interval');
    } catch (error) {
      throw new TaskScheduleError(
        `interval=${describeValue(interval)} is not a duration`,
        { interval },
        error,
      );
    }
    if (!(everyMs >= 1)) {
      throw new TaskScheduleError(`interval=${describeValue(interval)} must be at least 1 ms`, {
        interval,
      });
    }
    return this.#add({
      name: scheduleName,
      taskName,
      payload,
      options,
      kind: 'every',
      everyMs,
      next: (after) => (Math.floor(after / everyMs) + 1) * everyMs,
      latest: (at) => Math.floor(at / everyMs) * everyMs,
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
      schedule.timer = undefined;
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
    if (schedule.options.catchUp !== false) void this.#catchUp(schedule, now);
  }

  /**
   * Runs the latest slot before now if nobody ran it — only for a schedule this store has seen
   * before: the first time a schedule appears, its past slots were not missed, they did not exist.
   */
  async #catchUp(schedule: Schedule, now: number): Promise<void> {
    const latest = schedule.latest(now);
    if (latest === undefined) return;
    try {
      const backend = await this.#host.backend();
      const firstSight = await backend.claimScheduleSlot(`${schedule.name}#seen`, 0, SEEN_TTL_MS);
      if (firstSight) return;
      if (this.#schedules.get(schedule.name) !== schedule || !this.#started) return;
      await this.#fire(schedule, latest, backend);
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
        // A wait longer than a timer can hold is done in steps.
        if (Date.now() < slot) return this.#arm(schedule, slot);
        this.#arm(schedule, schedule.next(slot));
        void this.#fire(schedule, slot).catch((error) => {
          this.#host.log.error({ err: error, schedule: schedule.name }, 'scheduled submit failed');
        });
      },
      Math.min(MAX_TIMER, Math.max(0, delay)),
    );
    schedule.timer.unref?.();
  }

  async #fire(schedule: Schedule, slot: number, known?: TaskBackend): Promise<void> {
    const backend = known ?? (await this.#host.backend());
    // Remembered a little longer than one period, so a restart right after a slot sees it ran.
    const periodMs = Math.max(1_000, schedule.next(slot) - slot);
    const claimed = await backend.claimScheduleSlot(schedule.name, slot, 2 * periodMs + 60_000);
    if (!claimed) return;
    await backend.claimScheduleSlot(`${schedule.name}#seen`, 0, SEEN_TTL_MS);
    const { timezone: _tz, catchUp: _catchUp, ...taskOptions } = schedule.options;
    const id = `schedule:${schedule.name}:${slot}`;
    await this.#host.submit(schedule.taskName, schedule.payload, {
      ...taskOptions,
      id,
      allowUnknown: true,
    });
    schedule.lastRunAt = slot;
    schedule.lastTaskId = id;
  }
}

function checkTimezone(timezone: unknown): string | undefined {
  if (timezone === undefined) return undefined;
  try {
    if (typeof timezone !== 'string' || timezone === '') throw new RangeError('not a string');
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return timezone;
  } catch (error) {
    throw new TaskScheduleError(
      `timezone=${describeValue(timezone)} is not an IANA time zone such as 'Europe/Paris'`,
      { timezone },
      error,
    );
  }
}

let loadedCronParser: typeof CronParser | undefined;

/**
 * cron-parser (and luxon under it) loaded on the first periodic schedule rather than at import: the
 * root entry builds the task engine, and most processes never parse a cron expression.
 */
function cronParser(): typeof CronParser {
  loadedCronParser ??= createRequire(import.meta.url)('cron-parser') as typeof CronParser;
  return loadedCronParser;
}
