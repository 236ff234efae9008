import type { Logger } from '../core/logger.js';
import type { CacheCounters } from './cache-analytics.js';
import type { Generations } from './generations.js';
import { mayCarryTags } from './load-tags.js';
import type { TierLog } from './tier-log.js';
import type { TierStack } from './tier-stack.js';
import type { InvalidationBus, InvalidationMessage } from './types.js';

/** @internal What {@link Invalidation} works with, built by the cache. */
export interface InvalidationParts {
  stack: TierStack;
  generations: Generations;
  counters: CacheCounters;
  /** The loads under way, by namespace and key: an invalidation stops new callers joining them. */
  inflight: Map<string, Promise<unknown>>;
  bus: InvalidationBus | undefined;
  /** This instance on the bus: its own messages do not come back to it. */
  origin: string;
  log: Logger;
  tierLog: TierLog;
}

/**
 * @internal Deletes, tag invalidations and clears across the tiers, and the bus that carries them
 * to the local tier of every other instance (and theirs to ours). Each bumps the generations, so
 * that a read or a load under way cannot write back what was just removed.
 */
export class Invalidation {
  readonly bus: InvalidationBus | undefined;
  readonly busStats = { published: 0, received: 0, errors: 0 };
  readonly #parts: InvalidationParts;
  #busReady: Promise<void> | undefined;

  constructor(parts: InvalidationParts) {
    this.#parts = parts;
    this.bus = parts.bus;
  }

  /** Removes `key` from every tier and from other instances' local tiers. */
  async remove(namespace: string, key: string, id: string): Promise<boolean> {
    const { stack, generations, counters, inflight } = this.#parts;
    counters.of(namespace).deletes++;
    // Callers from now on must not join a load that started before the delete.
    inflight.delete(id);
    generations.startKey(namespace, key);
    const removed = await stack
      .remove(namespace, key)
      .finally(() => generations.endKey(namespace, key));
    this.publishKey(namespace, key);
    return removed;
  }

  /** Removes the entries carrying any of `tags` everywhere. */
  async removeByTags(tags: readonly string[], namespace: string | undefined): Promise<void> {
    const { generations, inflight, stack } = this.#parts;
    // Loads under way whose value may carry one of the tags may have read what is being
    // invalidated: callers from now on start afresh rather than join them.
    for (const [id, load] of inflight) if (mayCarryTags(load, tags)) inflight.delete(id);
    generations.markTags(tags, 1);
    await stack.removeByTags(tags, namespace).finally(() => generations.markTags(tags, -1));
    this.#publish({ type: 'tags', origin: this.#parts.origin, namespace, tags: [...tags] });
  }

  /** Removes every entry of `namespace`, or of every namespace, everywhere. */
  async removeAll(namespace: string | undefined): Promise<void> {
    this.#startGlobal();
    await this.#parts.stack.removeAll(namespace).finally(() => this.#settle(this.#bumpGlobal));
    this.#publish({ type: 'clear', origin: this.#parts.origin, namespace });
  }

  /** Tells the other instances that `key` changed, so their local tiers drop it. */
  publishKey(namespace: string, key: string): void {
    this.#publish({ type: 'delete', origin: this.#parts.origin, namespace, keys: [key] });
  }

  /** Subscribes to the bus once (again after a failed attempt). */
  subscribe(): Promise<void> {
    const bus = this.bus;
    if (bus === undefined) return Promise.resolve();
    this.#busReady ??= bus
      .subscribe(this.#parts.origin, (message) => {
        this.busStats.received++;
        this.#apply(message);
      })
      .catch((error) => {
        this.busStats.errors++;
        this.#busReady = undefined;
        this.#parts.tierLog.report('bus', 'subscribe', error);
      });
    return this.#busReady;
  }

  /** Empties the local tier, when what it holds can no longer be trusted. */
  dropLocal(reason: string): void {
    this.#parts.generations.global++;
    void this.#parts.stack.localLevel?.removeAll();
    this.#parts.log.warn({ reason }, 'local cache tier dropped');
  }

  #publish(message: InvalidationMessage): void {
    const bus = this.bus;
    if (bus === undefined) return;
    this.busStats.published++;
    bus.publish(message).catch((error) => {
      this.busStats.errors++;
      this.#parts.tierLog.report('bus', 'publish', error);
    });
  }

  /** Applies an invalidation from another instance to the local tier. */
  #apply(message: InvalidationMessage): void {
    const { stack, generations } = this.#parts;
    const local = stack.localLevel;
    if (message.type === 'delete') {
      for (const key of message.keys) {
        generations.bumpKey(message.namespace, key);
        void local?.remove(message.namespace, key);
      }
    } else if (message.type === 'tags') {
      generations.markTags(message.tags, 0);
      void local?.removeByTags(message.tags, message.namespace);
    } else {
      generations.global++;
      void local?.removeAll(message.namespace);
    }
  }

  #startGlobal(): void {
    // Loads under way may have read what is being invalidated: callers from now on start afresh.
    this.#parts.inflight.clear();
    this.#parts.generations.invalidating++;
    this.#parts.generations.global++;
  }

  readonly #bumpGlobal = (): void => {
    this.#parts.generations.global++;
  };

  /** Ends an invalidation; bumps again, for reads that started while it ran. */
  #settle(bump: () => void): void {
    this.#parts.generations.invalidating--;
    bump();
  }
}
