/** Listener of event `K` of an event map `E` (`{ name: [arg, ...] }`). */
export type EventListener<E, K extends keyof E> = E[K] extends unknown[]
  ? (...args: E[K]) => void
  : never;

interface Entry {
  listener: (...args: any[]) => void;
  once: boolean;
}

/**
 * A small typed event emitter whose `emit` calls every listener on its own: a listener that throws
 * is reported to `onListenerError` and neither reaches the code that emitted (a monitored call, a
 * cache read) nor keeps the listeners after it from hearing the event. Node's EventEmitter and
 * eventemitter3 both stop at the first listener that throws.
 *
 * @example
 * ```ts
 * class Monitor extends Emitter<{ slow: [event: SlowEvent] }> {}
 * monitor.on('slow', (event) => console.warn(event.name));
 * ```
 */
export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  #events = new Map<keyof E, Entry[]>();

  /** Called with the error of a listener that threw, and the event it was handling. */
  protected onListenerError(_error: unknown, _event: keyof E): void {}

  /** Adds `listener` for `event`. */
  on<K extends keyof E>(event: K, listener: EventListener<E, K>): this {
    return this.#add(event, listener, false);
  }

  /** Alias of {@link on}. */
  addListener<K extends keyof E>(event: K, listener: EventListener<E, K>): this {
    return this.#add(event, listener, false);
  }

  /** Adds `listener` for the next `event` only. */
  once<K extends keyof E>(event: K, listener: EventListener<E, K>): this {
    return this.#add(event, listener, true);
  }

  /** Removes `listener` (one registration of it), or every listener of `event` without one. */
  off<K extends keyof E>(event: K, listener?: EventListener<E, K>): this {
    const entries = this.#events.get(event);
    if (entries === undefined) return this;
    if (listener === undefined) {
      this.#events.delete(event);
      return this;
    }
    const index = entries.findIndex((entry) => entry.listener === listener);
    if (index >= 0) entries.splice(index, 1);
    if (entries.length === 0) this.#events.delete(event);
    return this;
  }

  /** Alias of {@link off}. */
  removeListener<K extends keyof E>(event: K, listener?: EventListener<E, K>): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof E): this {
    if (event === undefined) this.#events.clear();
    else this.#events.delete(event);
    return this;
  }

  /** The listeners of `event`, in the order they were added. */
  listeners<K extends keyof E>(event: K): EventListener<E, K>[] {
    return (this.#events.get(event) ?? []).map((entry) => entry.listener as EventListener<E, K>);
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof E): number {
    return this.#events.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event` with `args`; resolves whether there was any. Never throws. */
  emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const entries = this.#events.get(event);
    if (entries === undefined || entries.length === 0) return false;
    // A copy: listeners may add or remove listeners while the event is delivered.
    for (const entry of [...entries]) {
      if (entry.once) this.off(event, entry.listener as EventListener<E, K>);
      try {
        entry.listener(...args);
      } catch (error) {
        try {
          this.onListenerError(error, event);
        } catch {
          // The error reporter itself failed; there is nowhere left to report to.
        }
      }
    }
    return true;
  }

  #add(event: keyof E, listener: (...args: any[]) => void, once: boolean): this {
    const entries = this.#events.get(event);
    if (entries === undefined) this.#events.set(event, [{ listener, once }]);
    else entries.push({ listener, once });
    return this;
  }
}
