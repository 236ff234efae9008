import { type Duration, parseDuration } from '../core/duration.js';
import { describeValue } from '../core/errors.js';
import { cronSlots } from '../tasks/schedule-slots.js';
import { MaintenanceConfigError } from './errors.js';

/** @internal The error for option `field`. */
export function invalid(field: string, value: unknown, expected: string): MaintenanceConfigError {
  return new MaintenanceConfigError(
    `maintenance option ${field}=${describeValue(value)} is invalid: expected ${expected}`,
    { field, value, expected },
  );
}

/** @internal A duration option in milliseconds, or a {@link MaintenanceConfigError} naming it. */
export function durationOption(
  value: Duration | undefined,
  fallback: Duration,
  field: string,
): number {
  try {
    const ms = parseDuration(value ?? fallback, field);
    if (!(ms > 0)) throw new RangeError('not positive');
    return ms;
  } catch (error) {
    throw new MaintenanceConfigError(
      `maintenance option ${field}=${describeValue(value)} is invalid: expected a positive duration (seconds, or '500ms', '5m', '7d')`,
      { field, value, expected: 'a positive duration' },
      error,
    );
  }
}

/** @internal A number option within bounds, or a {@link MaintenanceConfigError} naming it. */
export function numberOption(
  value: unknown,
  fallback: number,
  field: string,
  check: (n: number) => boolean,
  expected: string,
): number {
  const n = value ?? fallback;
  if (typeof n !== 'number' || !Number.isFinite(n) || !check(n))
    throw invalid(field, value, expected);
  return n;
}

/** @internal Checks a cron expression in `timezone`; a bad one names its option. */
export function checkCron(cron: unknown, timezone: string | undefined, field: string): string {
  try {
    cronSlots(cron as string, timezone);
    return cron as string;
  } catch (error) {
    throw new MaintenanceConfigError(
      `maintenance option ${field}=${describeValue(cron)} is invalid: expected a cron expression such as '0 2 * * *' (${(error as Error).message})`,
      { field, value: cron, expected: 'a cron expression' },
      error,
    );
  }
}
