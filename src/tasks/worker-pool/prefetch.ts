import type { Logger } from '../../core/logger.js';
import type { ClaimedTask, Lease, TaskBackend } from '../types.js';

// The tasks a pool claims ahead of its free slots, and the claims in flight that bring them.

/** What a pool's prefetch asks of the pool. */
export interface PrefetchHooks {
  /** Whether the queue is paused: a claim answering then gives its tasks back. */
  paused(): boolean;
  /** Gives tasks back to the queue. */
  giveBack(leases: Lease[]): Promise<void>;
  /** A claim settled (answered or failed): the claim loop may go on. */
  settled(): void;
  /**
   * Sorts the tasks of a claim sent at local time `sentAt`: `false` for one that may not start
   * here (its group was paused meanwhile), given back at once.
   */
  keep(claimed: ClaimedTask, sentAt: number): boolean;
}

/**
 * A pool's prefetch: the tasks claimed and not started yet, in claim order, and the claims still in
 * flight. A failed claim sets a growing pause before the next one.
 */
export class Prefetch {
  /** Claimed ahead of a free slot, in claim order; their leases are renewed too. */
  buffer: ClaimedTask[] = [];
  /** Claims in flight. */
  readonly claims = new Set<Promise<void>>();
  /** How many tasks the claims in flight asked for. */
  asked = 0;
  /** The last claim returned fewer tasks than it asked for: the queue had no more ready. */
  drained = false;
  /** After a failed claim: no claim before this time (epoch ms); 0 when none failed. */
  retryAt = 0;
  /** Set once stop() gave the buffer back: a claim answering later gives its tasks back itself. */
  returnLateClaims = false;
  #errorDelay = 0;
  readonly #backend: TaskBackend;
  readonly #queue: string;
  readonly #workerId: string;
  readonly #leaseMs: number;
  readonly #log: Logger;
  readonly #hooks: PrefetchHooks;

  constructor(
    backend: TaskBackend,
    queue: string,
    workerId: string,
    leaseMs: number,
    log: Logger,
    hooks: PrefetchHooks,
  ) {
    this.#backend = backend;
    this.#queue = queue;
    this.#workerId = workerId;
    this.#leaseMs = leaseMs;
    this.#log = log;
    this.#hooks = hooks;
  }

  /** Empties the buffer (or takes the tasks `which` selects); returns the leases they held. */
  takeBuffered(which?: (claimed: ClaimedTask) => boolean): Lease[] {
    const taken = which === undefined ? this.buffer : this.buffer.filter(which);
    this.buffer = which === undefined ? [] : this.buffer.filter((c) => !which(c));
    return taken.map((c) => ({ id: c.task.id, token: c.token }));
  }

  /** Sends one claim for `max` tasks; its tasks join the buffer. */
  claim(max: number): void {
    this.asked += max;
    const sentAt = Date.now();
    let request: Promise<ClaimedTask[]>;
    try {
      request = this.#backend.claim(this.#queue, this.#workerId, max, this.#leaseMs);
    } catch (error) {
      // A backend that throws rather than rejecting (a hand-written one that checks its state
      // first) is a failed claim like any other: thrown here, it would end the claim loop.
      request = Promise.reject(error);
    }
    const claim = request.then(
      (claimed) => {
        this.#errorDelay = 0;
        if (this.returnLateClaims || this.#hooks.paused()) {
          // Answered after stop() stopped waiting for it, or after the queue was paused: nobody
          // runs these here now. A pause waits for this (returnPrefetched), a stop does not.
          if (claimed.length > 0) {
            return this.#hooks.giveBack(claimed.map((c) => ({ id: c.task.id, token: c.token })));
          }
          return;
        }
        // Even when stopping: buffered tasks are given back by stop().
        let refused: Lease[] | undefined;
        for (let i = 0; i < claimed.length; i++) {
          const c = claimed[i]!;
          if (this.#hooks.keep(c, sentAt)) this.buffer.push(c);
          else (refused ??= []).push({ id: c.task.id, token: c.token });
        }
        this.drained = claimed.length < max;
        if (refused !== undefined) return this.#hooks.giveBack(refused);
      },
      (error: unknown) => {
        this.#errorDelay = Math.min(5_000, Math.max(100, this.#errorDelay * 2));
        this.retryAt = Date.now() + this.#errorDelay;
        this.#log.warn(
          { err: error, queue: this.#queue, retryInMs: this.#errorDelay },
          'claiming tasks failed; trying again',
        );
      },
    );
    const settled = claim.then(() => {
      this.asked -= max;
      this.claims.delete(settled);
      this.#hooks.settled();
    });
    this.claims.add(settled);
  }
}
