import { Emitter, type EventListener } from '../core/events.js';
import type { BreakerEvents } from './breaker-types.js';

/**
 * The events of a breaker ({@link BreakerEvents}), knowing at no cost whether `success` (the one
 * event of every call) has listeners, so an unheard one costs nothing. `Breaker` extends it.
 *
 * @example
 * ```ts
 * const breaker = circuitBreaker('payments');
 * breaker.on('open', ({ reason }) => console.warn('payments circuit open:', reason));
 * ```
 */
export class BreakerEmitter extends Emitter<BreakerEvents> {
  /** Whether `success` has listeners. */
  protected successListened = false;

  override on<K extends keyof BreakerEvents>(
    event: K,
    listener: EventListener<BreakerEvents, K>,
  ): this {
    super.on(event, listener);
    return this.#listened();
  }

  override addListener<K extends keyof BreakerEvents>(
    event: K,
    listener: EventListener<BreakerEvents, K>,
  ): this {
    super.addListener(event, listener);
    return this.#listened();
  }

  override once<K extends keyof BreakerEvents>(
    event: K,
    listener: EventListener<BreakerEvents, K>,
  ): this {
    super.once(event, listener);
    return this.#listened();
  }

  override off<K extends keyof BreakerEvents>(
    event: K,
    listener?: EventListener<BreakerEvents, K>,
  ): this {
    super.off(event, listener);
    return this.#listened();
  }

  override removeAllListeners(event?: keyof BreakerEvents): this {
    super.removeAllListeners(event);
    return this.#listened();
  }

  #listened(): this {
    this.successListened = this.listenerCount('success') > 0;
    return this;
  }
}
