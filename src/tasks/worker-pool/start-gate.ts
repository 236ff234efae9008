import type { Logger } from '../../core/logger.js';
import type { ClaimedTask, QueueLimits, TaskBackend } from '../types.js';

// Whether a claimed task may still start: its group was not paused since, and the window of the
// rate limits that counted its claim has not ended. A rate limit counts claims; a task that
// started in the next window would make that window start more than its limit.

/**
 * @internal A pool's view of its queue's paused groups and rate-limit windows. Tasks it refuses
 * are given back to the queue (no attempt spent, same place), and claimed again in a window with
 * room, or once the group is resumed.
 */
export class StartGate {
  /**
   * Paused groups, each with the local time this process last learnt of its pause (its own
   * pause once the backend applied it, or the event). Claims sent after that cannot hold tasks of
   * the group unless it was resumed since, so only earlier claims are refused: a lost `resumed`
   * event leaves nothing refused for ever.
   */
  readonly #pausedAt = new Map<string, number>();
  /** Counts the pauses and resumes learnt, so that a list read before one is not applied after. */
  #changes = 0;
  /** Windows (ms) of the limits that count every claim of the queue: queue and shared limits. */
  #queueWindows: number[] = [];
  /** Window (ms) of the limit per group, counted for grouped tasks only; 0: none. */
  #groupWindow = 0;
  /** Local time each claimed task's claim was sent at. */
  readonly #sentAt = new WeakMap<ClaimedTask, number>();
  /** Latest local time each claimed task may start at (epoch ms); absent: no limit. */
  readonly #startBy = new WeakMap<ClaimedTask, number>();
  readonly #backend: TaskBackend;
  readonly #queue: string;
  readonly #log: Logger;

  constructor(backend: TaskBackend, queue: string, log: Logger) {
    this.#backend = backend;
    this.#queue = queue;
    this.#log = log;
  }

  /** Whether the queue has a rate limit: the pool then claims for its free slots only. */
  get limited(): boolean {
    return this.#queueWindows.length > 0 || this.#groupWindow > 0;
  }

  /** Reads the queue's limits again (a change made by any process is followed from then on). */
  async refresh(): Promise<void> {
    const backend = this.#backend;
    if (backend.groups === undefined && backend.queueLimits === undefined) return;
    try {
      this.apply(
        backend.queueLimits !== undefined
          ? await backend.queueLimits(this.#queue)
          : (await backend.groups!(this.#queue, 0)).limits,
      );
    } catch (error) {
      this.#log.debug({ err: error, queue: this.#queue }, 'reading the queue limits failed');
    }
  }

  /** Follows `limits` as stored. */
  apply(limits: QueueLimits): void {
    const windows: number[] = [];
    if (limits.rateLimit !== undefined) windows.push(limits.rateLimit.perMs);
    if (limits.sharedLimit !== undefined) windows.push(limits.sharedLimit.perMs);
    this.#queueWindows = windows;
    this.#groupWindow = limits.groupRateLimit?.perMs ?? 0;
  }

  /** `group` is paused in the backend as of now: tasks of it claimed until now do not start. */
  pauseGroup(group: string): void {
    this.#changes += 1;
    this.#pausedAt.set(group, Date.now());
  }

  resumeGroup(group: string): void {
    this.#changes += 1;
    this.#pausedAt.delete(group);
  }

  /**
   * Reads the groups paused in the backend, forgets the pauses it no longer has (a lost
   * `group-resumed`), and resolves the paused groups this pool did not know of (a lost
   * `group-paused`: the pool then gives back what it claimed of them). Nothing when a pause or
   * resume was learnt during the read (it is newer), the backend keeps no list, or the read fails.
   */
  async readPausedGroups(): Promise<string[]> {
    if (this.#backend.pausedGroups === undefined) return [];
    const since = this.#changes;
    let paused: string[];
    try {
      paused = await this.#backend.pausedGroups(this.#queue);
    } catch (error) {
      this.#log.debug({ err: error, queue: this.#queue }, 'reading the paused groups failed');
      return [];
    }
    if (this.#changes !== since) return [];
    const current = new Set(paused);
    for (const group of [...this.#pausedAt.keys()]) {
      if (!current.has(group)) this.resumeGroup(group);
    }
    return paused.filter((group) => !this.#pausedAt.has(group));
  }

  /** Whether `claimed` was claimed before its group's pause (so it must not start). */
  paused(claimed: ClaimedTask): boolean {
    const group = claimed.task.group;
    if (group === undefined) return false;
    const pausedAt = this.#pausedAt.get(group);
    return pausedAt !== undefined && (this.#sentAt.get(claimed) ?? 0) <= pausedAt;
  }

  /**
   * Notes a task of a claim sent at local time `sentAt`, and when it must start by. The backend's
   * `startedAt` is its clock at the claim, which ran after `sentAt`: the backend's clock now is at
   * most `startedAt + (Date.now() - sentAt)`, so the window end is reached no later than
   * `sentAt + (end - startedAt)` on this process's clock, whatever the offset between the two.
   */
  claimed(claimed: ClaimedTask, sentAt: number): void {
    this.#sentAt.set(claimed, sentAt);
    if (!this.limited) return;
    const at = claimed.task.startedAt ?? sentAt;
    let end = Number.POSITIVE_INFINITY;
    for (const per of this.#queueWindows) end = Math.min(end, windowEnd(at, per));
    if (this.#groupWindow > 0 && claimed.task.group !== undefined) {
      end = Math.min(end, windowEnd(at, this.#groupWindow));
    }
    if (end !== Number.POSITIVE_INFINITY) this.#startBy.set(claimed, sentAt + (end - at));
  }

  /** Whether `claimed` may start now: its group runs and its claim's window has not ended. */
  mayStart(claimed: ClaimedTask, now: number): boolean {
    if (this.paused(claimed)) return false;
    const by = this.#startBy.get(claimed);
    return by === undefined || now < by;
  }
}

/** End of the window of length `per` (aligned on the epoch) holding `at`. */
function windowEnd(at: number, per: number): number {
  return (Math.floor(at / per) + 1) * per;
}
