import { hashTag } from '../../../redis/keys.js';
import { runScript } from '../../../redis/scripts.js';
import type { QueueLimits, RateLimitSpec } from '../../types.js';
import type { BackendContext } from './context.js';
import { SHARED_GIVE, SHARED_TAKE } from './scripts.js';

/** How long a queue's shared limit, as read from Redis, is trusted before it is read again. */
const REFRESH_MS = 2_000;

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
 * did not use. Which limit a queue shares is stored with the queue (its `cfg` hash), and read again
 * every {@link REFRESH_MS} by every process that claims from it.
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

  async room(queue: string, max: number): Promise<SharedRoom> {
    const shared = await this.#shared(queue);
    if (shared === undefined) return { max, holdUntil: 0 };
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

  async #shared(queue: string): Promise<Shared | undefined> {
    const now = Date.now();
    const known = this.#known.get(queue);
    if (known !== undefined && now - known.readAt < REFRESH_MS) return known.shared;
    const k = this.#ctx.keys.queue(queue);
    const [name, limit, per] = await this.#ctx.conn.run('claim', queue, (client) =>
      client.hmget(k.base + 'cfg', 'sname', 'slim', 'sper'),
    );
    const shared =
      name && Number(limit) > 0 && Number(per) > 0
        ? { name, limit: Number(limit), perMs: Number(per) }
        : undefined;
    this.#known.set(queue, { shared, readAt: now });
    return shared;
  }
}
