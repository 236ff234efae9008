import { quitClient, type RedisClient } from '../../../redis/client.js';
import { resubscribeOnReady, SUBSCRIBER_OPTIONS } from '../../../redis/subscriber.js';
import type { TaskBackendEvent } from '../../types.js';
import { asError, type BackendConnection, TaskBackendError } from './connection.js';

/**
 * The Redis task backend's events: one subscriber connection on the event channel, opened by the
 * first `subscribe`, whose messages (`{ q: queue, e: [[type, id, name], ...] }`) are delivered to
 * every listener.
 */
export class BackendEvents {
  readonly #conn: BackendConnection;
  readonly #channel: string;
  readonly #listeners = new Set<(event: TaskBackendEvent) => void>();
  #subscriber: RedisClient | undefined;
  #stopResubscribing: (() => void) | undefined;

  constructor(conn: BackendConnection, channel: string) {
    this.#conn = conn;
    this.#channel = channel;
  }

  /** Adds a listener (opening the subscriber on first use); returns its removal. */
  subscribe(listener: (event: TaskBackendEvent) => void): () => void {
    if (this.#conn.closing !== undefined) return () => undefined;
    this.#listeners.add(listener);
    this.#ensureSubscriber();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Forgets the listeners and closes the subscriber, if any. */
  close(): Promise<void>[] {
    this.#listeners.clear();
    this.#stopResubscribing?.();
    return this.#subscriber === undefined ? [] : [quitClient(this.#subscriber)];
  }

  #ensureSubscriber(): void {
    if (this.#subscriber !== undefined) return;
    const subscriber = this.#conn.duplicate({
      ...SUBSCRIBER_OPTIONS,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      connectionName: this.#conn.connectionName('events'),
    });
    this.#subscriber = subscriber;
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.#channel) this.#deliver(text);
    });
    this.#stopResubscribing = resubscribeOnReady(
      subscriber,
      () => (this.#conn.closing === undefined ? [this.#channel] : []),
      (error) => this.#conn.report(error),
    );
  }

  #deliver(text: string): void {
    let message: { q?: unknown; e?: unknown };
    try {
      message = JSON.parse(text) as { q?: unknown; e?: unknown };
    } catch {
      this.#conn.report(
        new TaskBackendError('redis task backend: ignored a malformed event message'),
      );
      return;
    }
    if (typeof message.q !== 'string' || !Array.isArray(message.e)) return;
    for (const entry of message.e) {
      if (!Array.isArray(entry)) continue;
      const [type, id, name, group] = entry as unknown[];
      if (typeof type !== 'string' || typeof id !== 'string') continue;
      const event = {
        type,
        queue: message.q,
        id,
        name: typeof name === 'string' ? name : '',
      } as TaskBackendEvent;
      if (typeof group === 'string') event.group = group;
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (error) {
          this.#conn.report(asError(error));
        }
      }
    }
  }
}
