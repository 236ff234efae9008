import { createRequire } from 'node:module';
import type * as CronParser from 'cron-parser';
import { type Duration, parseDuration } from '../core/duration.js';
import { describeValue } from '../core/errors.js';
import { TaskScheduleError } from './errors.js';

// When a schedule's slots fall: at the times of a cron expression, or every interval.

/** @internal The slots of a schedule, as epoch milliseconds. */
export interface ScheduleSlots {
  /** The first slot strictly after `after`. */
  next(after: number): number;
  /** The latest slot at or before `at`. */
  latest(at: number): number | undefined;
}

/**
 * @internal The slots of a cron expression (5 fields, or 6 with seconds first) read in `timezone`
 * (UTC when undefined).
 *
 * @throws TaskScheduleError for an expression that does not parse.
 */
export function cronSlots(cron: string, timezone: string | undefined): ScheduleSlots {
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
  return {
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
  };
}

/**
 * @internal The slots every `interval` (seconds, or a string with a unit), aligned to multiples of
 * it since the epoch so that every process agrees on them.
 *
 * @throws TaskScheduleError for an interval that is not a duration of at least 1 ms.
 */
export function intervalSlots(interval: Duration): ScheduleSlots & { everyMs: number } {
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
  return {
    everyMs,
    next: (after) => (Math.floor(after / everyMs) + 1) * everyMs,
    latest: (at) => Math.floor(at / everyMs) * everyMs,
  };
}

/**
 * @internal `timezone` if it is an IANA time zone this runtime knows, `undefined` for none.
 *
 * @throws TaskScheduleError for anything else.
 */
export function checkTimezone(timezone: unknown): string | undefined {
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
