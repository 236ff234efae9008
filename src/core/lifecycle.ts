import { LifecycleError } from './errors.js';
import type { Logger } from './logger.js';

/** Something with a start and a stop, owned by an instance: a sampler, a worker pool, a connection. */
export interface Component {
  /** Used in logs and errors. */
  readonly name: string;
  start?(): void | Promise<void>;
  /**
   * Stops timers, drains in-flight work and closes what the component opened. `deadline` (epoch
   * ms), during a graceful shutdown: when in-flight work must be finished or handed back.
   */
  stop?(deadline?: number): void | Promise<void>;
}

/** The states an instance goes through. */
export type LifecycleState = 'created' | 'starting' | 'started' | 'stopping' | 'stopped';

/**
 * Starts components in the order they were added and stops them in reverse, once each. A component
 * that fails to stop is logged and the others still stop, so `shutdown()` always completes.
 *
 * @internal
 */
export class Lifecycle {
  #state: LifecycleState = 'created';
  #components: Component[] = [];
  #started: Component[] = [];
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  get state(): LifecycleState {
    return this.#state;
  }

  add(component: Component): void {
    this.#components.push(component);
  }

  start(): Promise<void> {
    if (this.#stopping !== undefined || this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(
        new LifecycleError('cannot start an instance that has been shut down; create a new one', {
          state: this.#state,
        }),
      );
    }
    this.#starting ??= this.#startAll();
    return this.#starting;
  }

  async #startAll(): Promise<void> {
    this.#state = 'starting';
    try {
      for (const component of this.#components) {
        await component.start?.();
        this.#started.push(component);
      }
      this.#state = 'started';
    } catch (error) {
      this.log.error({ err: error }, 'start failed; stopping what had started');
      // shutdown() reuses this promise, so no component is stopped twice. When shutdown() is already
      // waiting for this start, it stops the components itself once the start has settled.
      if (this.#stopping === undefined) {
        this.#stopping = this.#stopAll();
        await this.#stopping;
      }
      throw error;
    }
  }

  /** Stops every component once; `deadline` (epoch ms) is handed to each (graceful shutdown). */
  shutdown(deadline?: number): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#starting?.catch(() => {});
      await this.#stopAll(deadline);
    })();
    return this.#stopping;
  }

  async #stopAll(deadline?: number): Promise<void> {
    this.#state = 'stopping';
    for (const component of this.#started.reverse()) {
      try {
        await component.stop?.(deadline);
      } catch (error) {
        this.log.error({ err: error, component: component.name }, 'component failed to stop');
      }
    }
    // Components that never started may still hold resources created eagerly.
    for (const component of this.#components) {
      if (this.#started.includes(component)) continue;
      try {
        await component.stop?.(deadline);
      } catch (error) {
        this.log.error({ err: error, component: component.name }, 'component failed to stop');
      }
    }
    this.#started = [];
    this.#state = 'stopped';
  }
}
