import { hashTag } from '../../../redis/keys.js';
import { runScript } from '../../../redis/scripts.js';
import type { QueueLimits, RateLimitSpec } from '../../types.js';
import type { BackendContext } from './context.js';
import { SHARED_GIVE, SHARED_TAKE } from './scripts.js';

type Shared = RateLimitSpec & { name: string };

/** What a claim may take under its queue's shared limit. */
export interface SharedRoom {
  /** At most this many (the claim's own `max` when the queue shares no limit). */
  max: number;
  /** When there is no room: the server's time the window ends. */
  holdUntil: number;
  /** The window's counter, to give back what the claim did not use. */
  key?: string;
}

/**
 * @internal The limits shared by several queues, on the Redis backend. A shared counter cannot
 * live in each queue's Cluster slot, so it has a slot of its own (`<prefix>:{limit:<name>}:`): a
 * claim first takes room from it (SHARED_TAKE), claims at most that many, and gives back what it
 * did not use. Which limit a queue shares is stored with the queue (its `cfg` hash), and every
 * claim's reply carries it, so a process learns it (or its removal) with its next claim.
 */
export class SharedLimits {
  readonly #ctx: BackendContext;
  readonly #known = new Map<string, { shared: Shared | undefined; readAt: number }>();

  constructor(ctx: BackendContext) {
    this.#ctx = ctx;
  }

  /** The queue's settings changed in this process: applies at once. */
  configured(queue: string, limits: QueueLimits): void {
    this.#known.set(queue, { shared: limits.sharedLimit, readAt: Date.now() });
  }

  /**
   * What a claim of `queue` may take: at once (no command) when the queue shares no limit as far
   * as this process knows, else after taking room from the shared counter.
   */
  room(queue: string, max: number): SharedRoom | Promise<SharedRoom> {
    const shared = this.#known.get(queue)?.shared;
    if (shared === undefined) return { max, holdUntil: 0 };
    return this.#take(queue, shared, max);
  }

  /** What a claim's reply said of the queue's shared limit (name, limit, window as stored). */
  learned(queue: string, name: unknown, limit: unknown, per: unknown): void {
    const known = this.#known.get(queue);
    const shared =
      typeof name === 'string' && name !== '' && Number(limit) > 0 && Number(per) > 0
        ? { name, limit: Number(limit), perMs: Number(per) }
        : undefined;
    if (
      known !== undefined &&
      known.shared?.name === shared?.name &&
      known.shared?.limit === shared?.limit &&
      known.shared?.perMs === shared?.perMs
    ) {
      return;
    }
    this.#known.set(queue, { shared, readAt: Date.now() });
  }

  async #take(queue: string, shared: Shared, max: number): Promise<SharedRoom> {
    const base = `${this.#ctx.prefix}:${hashTag(`limit:${shared.name}`)}:`;
    const [room, key, ends] = (await this.#ctx.conn.run('claim', queue, (client) =>
      runScript(client, SHARED_TAKE, [base], [shared.limit, shared.perMs, max]),
    )) as [number, string, string];
    const granted = Number(room);
    return { max: granted, holdUntil: granted > 0 ? 0 : Number(ends), key };
  }

  /** Gives back what a claim took room for and did not use. */
  async giveBack(queue: string, key: string, unused: number): Promise<void> {
    if (unused <= 0) return;
    await this.#ctx.conn.run('claim', queue, (client) =>
      runScript(client, SHARED_GIVE, [key], [unused]),
    );
  }
}
