import { describeValue, InvalidArgumentError } from '../core/errors.js';
import type { Emitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { notAList } from './cache-checks.js';
import type { CacheEvents } from './types.js';

/** @internal How one warmer run went. */
export interface WarmResult {
  name: string;
  ok: boolean;
  durationMs: number;
}

/** @internal The cache's warmers: functions that fill it, run on start and on demand. */
export class Warmers {
  readonly #warmers = new Map<string, () => unknown>();
  readonly #events: Emitter<CacheEvents>;
  readonly #log: Logger;

  constructor(events: Emitter<CacheEvents>, log: Logger) {
    this.#events = events;
    this.#log = log;
  }

  register(name: string, warmer: () => unknown): void {
    if (typeof name !== 'string' || name === '') throw notAList('name', name);
    if (typeof warmer !== 'function') {
      throw new InvalidArgumentError(`warmer=${describeValue(warmer)} is not a function`, {
        argument: 'warmer',
        value: warmer,
        expected: 'a function',
      });
    }
    this.#warmers.set(name, warmer);
  }

  names(): string[] {
    return [...this.#warmers.keys()];
  }

  /** Runs the warmers (all, or the one named), one after the other; a failure is logged, not thrown. */
  async run(name?: string): Promise<WarmResult[]> {
    const selected =
      name === undefined ? [...this.#warmers] : [[name, this.#warmers.get(name)] as const];
    const results: WarmResult[] = [];
    for (const [warmerName, warmer] of selected) {
      if (warmer === undefined) {
        throw new InvalidArgumentError(
          `no cache warmer is registered as ${describeValue(warmerName)}`,
          {
            argument: 'name',
            value: warmerName,
            expected: `one of ${[...this.#warmers.keys()].join(', ') || '(none registered)'}`,
          },
        );
      }
      const started = performance.now();
      try {
        await warmer();
        const durationMs = performance.now() - started;
        results.push({ name: warmerName, ok: true, durationMs });
        this.#events.emit('warmed', { name: warmerName, durationMs });
      } catch (error) {
        const durationMs = performance.now() - started;
        results.push({ name: warmerName, ok: false, durationMs });
        this.#log.error({ err: error, warmer: warmerName }, 'cache warmer failed');
        this.#events.emit('warmed', { name: warmerName, durationMs, error: error as Error });
      }
    }
    return results;
  }
}
