import type { TaskRecord } from '../../types.js';

/** One task as held here: the public record plus the bookkeeping around it. */
export interface Slot {
  record: TaskRecord;
  /** Submission order, for FIFO within a priority. */
  seq: number;
  /** Bumped whenever the task leaves a heap, so stale heap entries are recognised and skipped. */
  gen: number;
  token: string | undefined;
  leaseUntil: number;
  /** The current lease's handler start was recorded (its attempt counts). */
  started: boolean;
  /** Leases lost before a start was recorded. */
  unstarted: number;
  /** Ids of blocked tasks waiting for this one. */
  dependents: string[] | undefined;
}
