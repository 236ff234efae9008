import type { Logger } from '../core/logger.js';

/**
 * @internal The cache's warnings about failing tiers, bus and lock: at most one line per tier and
 * operation every 10 s, so an outage cannot flood the logs.
 */
export class TierLog {
  readonly #log: Logger;
  readonly #last = new Map<string, number>();

  constructor(log: Logger) {
    this.#log = log;
  }

  report(tier: string, operation: string, error: unknown): void {
    const id = `${tier}:${operation}`;
    const now = Date.now();
    const last = this.#last.get(id);
    if (last !== undefined && now - last < 10_000) return;
    this.#last.set(id, now);
    this.#log.warn({ err: error, tier, operation }, `cache ${tier} ${operation} failed`);
  }
}
