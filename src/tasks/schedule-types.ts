import type { TaskDefinitionOptions } from './api-types.js';

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
  /** `code`: registered by `schedulePeriodic`/`scheduleEvery`; `admin`: added at run time. */
  origin: 'code' | 'admin';
  /** Paused by an operator: kept, but no slot is submitted until resumed. */
  paused: boolean;
  /** A code schedule an operator removed (listed with `includeRemoved`). */
  removed?: true;
}
