import type { RedisOptions } from 'ioredis';
import { rejectAfter } from '../../../core/timeout.js';
import type { RedisClient } from '../../../redis/client.js';
import { asError, type BackendConnection, dropClient } from './connection.js';

/** Longest single BZPOPMIN; a longer `waitForWork` is allowed to wake up spuriously. */
const MAX_BLOCK_MS = 30_000;
/** Extra time a BZPOPMIN gets over its own timeout before the connection is deemed hung. */
const BLOCK_GRACE_MS = 2_000;
/** Pause after a failed wait, so that a worker loop does not spin while Redis is away. */
const ERROR_PAUSE_MS = 250;

/** One BZPOPMIN cycle of a queue, shared by the `waitForWork` calls that arrive meanwhile. */
interface WaitRound {
  waiters: number;
  done: Promise<void>;
}

/**
 * `waitForWork` of the Redis task backend: one blocking connection per queue, popping the queue's
 * wake-up marker (BZPOPMIN), and one blocking cycle at a time per queue, shared by its waiters.
 */
export class WorkWaits {
  readonly #conn: BackendConnection;
  readonly #markerOf: (queue: string) => string;
  readonly #blocking = new Map<string, RedisClient>();
  readonly #rounds = new Map<string, WaitRound>();

  constructor(conn: BackendConnection, markerOf: (queue: string) => string) {
    this.#conn = conn;
    this.#markerOf = markerOf;
  }

  /** Resolves when work may be there, after `timeoutMs`, or on `signal`; never rejects. */
  async wait(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.#conn.closing !== undefined || !(timeoutMs > 0)) return;
    let round = this.#rounds.get(queue);
    if (round === undefined) {
      const created: WaitRound = { waiters: 0, done: Promise.resolve() };
      created.done = this.#waitRound(queue, Math.min(timeoutMs, MAX_BLOCK_MS), created).finally(
        () => {
          if (this.#rounds.get(queue) === created) this.#rounds.delete(queue);
        },
      );
      this.#rounds.set(queue, created);
      round = created;
    }
    const shared = round;
    shared.waiters++;
    await new Promise<void>((resolve) => {
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        shared.waiters--;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
      shared.done.then(done, done);
    });
  }

  /** Drops the blocking connections (busy with their BZPOPMIN: QUIT would wait behind it). */
  drop(): Promise<void>[] {
    const closing = [...this.#blocking.values()].map(dropClient);
    this.#blocking.clear();
    return closing;
  }

  /** Settles when the blocking cycles in progress have ended. */
  async ended(): Promise<void> {
    await Promise.allSettled([...this.#rounds.values()].map((round) => round.done));
  }

  /**
   * One blocking cycle on the queue's marker. Member `r` means ready work: return. Member `d`
   * carries the time a delayed task becomes due: keep blocking until then (a new marker, such as a
   * task added meanwhile, ends the wait sooner), then return so that the caller's claim promotes
   * it. A marker popped after every waiter left is put back, so no wake-up is lost.
   */
  async #waitRound(queue: string, blockMs: number, round: WaitRound): Promise<void> {
    const marker = this.#markerOf(queue);
    let deadline = Date.now() + blockMs;
    let dueMarker: number | undefined;
    try {
      for (let cycle = 0; cycle < 1_000; cycle++) {
        const left = deadline - Date.now();
        if (left <= 0 || this.#conn.closing !== undefined) break;
        const client = this.#blockingClient(queue);
        const popped = await guardBlocking(
          client,
          client.bzpopmin(marker, Math.max(0.01, left / 1_000).toFixed(3)),
          left + BLOCK_GRACE_MS,
        );
        if (popped === null || popped === undefined) break;
        const member = popped[1];
        if (member === 'r') {
          if (round.waiters === 0) this.#restoreMarker(marker, 0, 'r');
          dueMarker = undefined;
          return;
        }
        const due = Number(popped[2]);
        if (!(due > Date.now())) {
          if (round.waiters === 0) this.#restoreMarker(marker, due, 'd');
          return;
        }
        dueMarker = dueMarker === undefined ? due : Math.min(due, dueMarker);
        deadline = Math.min(deadline, due);
      }
      // Leaving before a delayed task we know of is due: leave its marker for the next waiter.
      if (dueMarker !== undefined && dueMarker > Date.now()) {
        this.#restoreMarker(marker, dueMarker, 'd');
      }
    } catch (error) {
      if (this.#conn.closing !== undefined) return;
      this.#conn.report(asError(error));
      if (dueMarker !== undefined) this.#restoreMarker(marker, dueMarker, 'd');
      const pause = Math.min(ERROR_PAUSE_MS, Math.max(0, deadline - Date.now()));
      await new Promise<void>((resolve) => setTimeout(resolve, pause).unref());
    }
  }

  #restoreMarker(marker: string, score: number, member: 'r' | 'd'): void {
    if (this.#conn.closing !== undefined) return;
    const args = member === 'd' ? (['LT', score, 'd'] as const) : ([0, 'r'] as const);
    (this.#conn.client.zadd as (...a: unknown[]) => Promise<unknown>)(marker, ...args).catch(
      (error: unknown) => this.#conn.report(asError(error)),
    );
  }

  #blockingClient(queue: string): RedisClient {
    let client = this.#blocking.get(queue);
    if (client !== undefined) return client;
    // The blocking connection must not time out a BZPOPMIN by the command timeout, and must keep
    // a wait issued during a reconnection until the connection is back.
    const overrides: Partial<RedisOptions> = {
      commandTimeout: undefined,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      blockingTimeout: MAX_BLOCK_MS + BLOCK_GRACE_MS,
      blockingTimeoutGrace: BLOCK_GRACE_MS,
      connectionName: this.#conn.connectionName('wait'),
    };
    client = this.#conn.duplicate(overrides);
    this.#blocking.set(queue, client);
    return client;
  }
}

/** Bounds a blocking command; on a hung connection drops it so that ioredis reconnects. */
function guardBlocking<T>(client: RedisClient, command: Promise<T>, ms: number): Promise<T> {
  return rejectAfter(command, ms, `no answer to BZPOPMIN in ${ms} ms: reconnecting`, () =>
    client.disconnect(true),
  );
}
