import { TaskTimeoutError } from '../errors.js';
import { abort, type Running } from './attempt.js';

// The timeouts of a pool's running attempts.

/** The longest delay a Node.js timer holds. */
const MAX_TIMER = 2_147_483_647;

/**
 * One timer for every running attempt's timeout: set for the earliest deadline, moved when an
 * earlier one comes. An attempt past its deadline is aborted and handed to `expire`.
 */
export class AttemptDeadlines {
  readonly #running: ReadonlyMap<string, Running>;
  readonly #expire: (running: Running, error: TaskTimeoutError) => void;
  #timer: NodeJS.Timeout | undefined;
  #at = Number.POSITIVE_INFINITY;

  constructor(
    running: ReadonlyMap<string, Running>,
    expire: (running: Running, error: TaskTimeoutError) => void,
  ) {
    this.#running = running;
    this.#expire = expire;
  }

  /** Makes sure the timer fires by `at` (epoch ms). */
  arm(at: number): void {
    if (at >= this.#at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#at = at;
    this.#timer = setTimeout(() => this.#fire(), Math.min(MAX_TIMER, Math.max(0, at - Date.now())));
    this.#timer.unref?.();
  }

  /** Stops the timer. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#at = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const running of [...this.#running.values()]) {
      if (running.deadline <= now) {
        const error = new TaskTimeoutError(
          `task ${running.task.id} (${running.task.name}) timed out after ${running.task.timeoutMs} ms`,
          { id: running.task.id, name: running.task.name, timeoutMs: running.task.timeoutMs },
        );
        abort(running, error);
        this.#expire(running, error);
      } else if (running.deadline < next) {
        next = running.deadline;
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
  }
}
