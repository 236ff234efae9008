import type { TaskBackendEvent, TaskRecord } from '../../types.js';

// The memory task backend's subscribers: events are delivered in this process, synchronously.

/** An event a state change produced, delivered once the change is complete. */
export type PendingEvent = [TaskBackendEvent['type'], TaskRecord];

/** The listeners of one memory backend, each called on its own (one that throws stops none). */
export class BackendListeners {
  readonly #listeners = new Set<(event: TaskBackendEvent) => void>();

  /** Adds a listener; returns its removal. */
  subscribe(listener: (event: TaskBackendEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Tells every listener about a change of one task. */
  emit(type: TaskBackendEvent['type'], record: TaskRecord): void {
    if (this.#listeners.size === 0) return;
    this.#deliver({ type, queue: record.queue, id: record.id, name: record.name });
  }

  /** Tells every listener about the changes in `events`, in order. */
  emitAll(events: readonly PendingEvent[]): void {
    for (const [type, record] of events) this.emit(type, record);
  }

  /** Tells every listener about a change of a whole queue (no task id or name). */
  announce(type: 'paused' | 'resumed' | 'limits', queue: string): void {
    this.#deliver({ type, queue, id: '', name: '' });
  }

  /** Tells every listener that a group of `queue` was paused or resumed. */
  announceGroup(type: 'group-paused' | 'group-resumed', queue: string, group: string): void {
    this.#deliver({ type, queue, id: '', name: '', group });
  }

  /** Forgets every listener. */
  clear(): void {
    this.#listeners.clear();
  }

  #deliver(event: TaskBackendEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure is its own; the state change already happened.
      }
    }
  }
}
