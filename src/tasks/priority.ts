/**
 * Named task priorities. A priority is a whole number from 0 (most urgent) to 100 (least); lower
 * runs first, and tasks of one priority run in submission order. Any number in between works too.
 *
 * @example
 * ```ts
 * await submitTask('send_password_reset', { userId }, { priority: TaskPriority.CRITICAL });
 * await submitTask('rebuild_sitemap', {}, { priority: TaskPriority.LOW + 10 });
 * ```
 */
export const TaskPriority = Object.freeze({
  CRITICAL: 0,
  HIGH: 25,
  NORMAL: 50,
  LOW: 75,
} as const);

/** One of the named priorities, or any whole number from 0 to 100. */
export type TaskPriorityValue = (typeof TaskPriority)[keyof typeof TaskPriority] | number;
