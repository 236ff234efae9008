import { rejectAfter } from '../core/timeout.js';
import {
  checkTimeout,
  createClient,
  quitClient,
  type RedisClient,
  resolveClient,
  whenReady,
} from '../redis/client.js';
import { checkPrefix } from '../redis/keys.js';
import { resubscribeOnReady, SUBSCRIBER_OPTIONS, subscriberOf } from '../redis/subscriber.js';
import { CacheTierError } from './errors.js';
import type { InvalidationBus, InvalidationMessage } from './types.js';

/**
 * Options of {@link RedisInvalidationBus}.
 *
 * @example
 * ```ts
 * const options: RedisInvalidationBusOptions = { client: redis, prefix: 'shop:cache', onReconnect: () => l1.clear() };
 * ```
 */
export interface RedisInvalidationBusOptions {
  /**
   * An ioredis client or Cluster to publish with; the bus subscribes on its `duplicate()`, which
   * it owns and quits. The given client itself is never closed. Give either `client` or `url`.
   */
  client?: RedisClient;
  /** A Redis URL: the bus opens a publishing and a subscribing connection and quits both on close. */
  url?: string;
  /**
   * Instances exchange messages on `${prefix}:invalidate`; use the prefix of the Redis tier they
   * share. @defaultValue 'enterprise:cache'
   */
  prefix?: string;
  /** Longest wait for a publish, or for the subscription to be confirmed. @defaultValue 1000 */
  commandTimeoutMs?: number;
  /**
   * Called after the subscriber connection came back and is subscribed again. Messages published
   * while it was away are lost (pub/sub keeps nothing), so a local tier should be dropped here.
   */
  onReconnect?: () => void;
  /**
   * Connection errors, malformed messages and handlers that threw: each is also counted in
   * {@link RedisInvalidationBus.stats}, never thrown.
   */
  onError?: (error: Error) => void;
}

/**
 * What {@link RedisInvalidationBus.stats} returns.
 *
 * @example
 * ```ts
 * const { published, received, errors }: InvalidationBusStats = bus.stats();
 * ```
 */
export interface InvalidationBusStats {
  /** Messages this bus published. */
  published: number;
  /** Messages from other instances handed to a handler. */
  received: number;
  /** Failed publishes, malformed messages, handlers that threw. */
  errors: number;
}

interface Subscription {
  origin: string;
  handler: (message: InvalidationMessage) => void;
}

/**
 * The Redis pub/sub {@link InvalidationBus}: instances sharing a Redis tier tell each other to drop
 * entries from their memory tier. Messages are JSON on `${prefix}:invalidate`; a message is not
 * delivered back to the subscription of the same `origin`. The subscriber is a connection of its
 * own (a subscribed connection can do nothing else), re-subscribed after every reconnection.
 *
 * @example
 * ```ts
 * const bus = new RedisInvalidationBus({ url: process.env.REDIS_URL, onReconnect: () => l1.clear() });
 * await bus.subscribe(instanceId, (message) => dropFromL1(message));
 * await bus.publish({ type: 'delete', origin: instanceId, namespace: 'users', keys: ['42'] });
 * bus.stats(); // { published: 1, received: 0, errors: 0 }
 * ```
 */
export class RedisInvalidationBus implements InvalidationBus {
  /** The channel messages travel on. */
  readonly channel: string;
  readonly #publisher: RedisClient;
  readonly #ownsPublisher: boolean;
  readonly #options: RedisInvalidationBusOptions;
  readonly #timeoutMs: number;
  readonly #subscriptions: Subscription[] = [];
  readonly #stats: InvalidationBusStats = { published: 0, received: 0, errors: 0 };
  #subscriber: RedisClient | undefined;
  #stopResubscribing: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: RedisInvalidationBusOptions) {
    this.channel = `${checkPrefix(options.prefix ?? 'enterprise:cache')}:invalidate`;
    this.#timeoutMs = checkTimeout(options.commandTimeoutMs ?? 1_000, 'commandTimeoutMs');
    this.#options = options;
    const { client, owned } = resolveClient(
      { client: options.client, url: options.url, onError: (error) => this.#error(error) },
      this.#timeoutMs,
      'RedisInvalidationBus',
    );
    this.#publisher = client;
    this.#ownsPublisher = owned;
  }

  /**
   * Sends `message` to the other instances. Rejects with a `CacheTierError` (and counts an error)
   * when Redis cannot take it within `commandTimeoutMs`.
   */
  async publish(message: InvalidationMessage): Promise<void> {
    try {
      if (this.#closing !== undefined) throw new Error('publish after close()');
      await whenReady(this.#publisher, this.#timeoutMs);
      await this.#publisher.publish(this.channel, JSON.stringify(message));
      this.#stats.published++;
    } catch (error) {
      this.#stats.errors++;
      throw new CacheTierError(
        `invalidation bus: publish failed: ${(error as Error).message}`,
        { channel: this.channel, type: message.type },
        error,
      );
    }
  }

  /**
   * Hands every message of another origin to `handler`. Resolves once Redis confirmed the
   * subscription; when that takes longer than `commandTimeoutMs` it rejects, but the handler stays
   * registered and the bus subscribes as soon as Redis answers.
   */
  async subscribe(origin: string, handler: (message: InvalidationMessage) => void): Promise<void> {
    if (this.#closing !== undefined) {
      throw new CacheTierError('invalidation bus: subscribe after close()', {
        channel: this.channel,
      });
    }
    this.#subscriptions.push({ origin, handler });
    const subscriber = this.#ensureSubscriber();
    try {
      await whenReady(subscriber, this.#timeoutMs);
      await rejectAfter(
        subscriber.subscribe(this.channel),
        this.#timeoutMs,
        NO_ANSWER(this.#timeoutMs),
      );
    } catch (error) {
      throw new CacheTierError(
        `invalidation bus: not subscribed yet (will subscribe when Redis answers): ${(error as Error).message}`,
        { channel: this.channel },
        error,
      );
    }
  }

  /** Counters since the bus was created. */
  stats(): InvalidationBusStats {
    return { ...this.#stats };
  }

  /** Unsubscribes, quits the subscriber and, when the bus created it, the publisher. Idempotent. */
  async close(): Promise<void> {
    this.#closing ??= this.#close();
    await this.#closing;
  }

  async #close(): Promise<void> {
    const subscriber = this.#subscriber;
    this.#stopResubscribing?.();
    if (subscriber !== undefined) {
      if (subscriber.status === 'ready') {
        await rejectAfter(
          subscriber.unsubscribe(this.channel),
          this.#timeoutMs,
          NO_ANSWER(this.#timeoutMs),
        ).catch(() => undefined);
      }
      await quitClient(subscriber);
    }
    if (this.#ownsPublisher) await quitClient(this.#publisher);
  }

  #ensureSubscriber(): RedisClient {
    if (this.#subscriber !== undefined) return this.#subscriber;
    const subscriber: RedisClient = this.#ownsPublisher
      ? createClient(
          this.#options.url!,
          this.#timeoutMs,
          (error) => this.#error(error),
          SUBSCRIBER_OPTIONS,
        )
      : subscriberOf(this.#publisher);
    if (!this.#ownsPublisher) subscriber.on('error', (error: Error) => this.#error(error));
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.#deliver(text);
    });
    // Also covers a subscription that never got confirmed, and tells when it is in place again,
    // so that onReconnect comes after it.
    this.#stopResubscribing = resubscribeOnReady(
      subscriber,
      () => (this.#closing === undefined && this.#subscriptions.length > 0 ? [this.channel] : []),
      (error) => this.#error(error),
      (reconnected) => {
        if (reconnected) this.#safely(() => this.#options.onReconnect?.());
      },
    );
    this.#subscriber = subscriber;
    return subscriber;
  }

  #deliver(text: string): void {
    const message = parseMessage(text);
    if (message === undefined) {
      this.#error(
        new CacheTierError('invalidation bus: ignored a malformed message', {
          channel: this.channel,
          message: text.length > 200 ? `${text.slice(0, 197)}...` : text,
        }),
      );
      return;
    }
    let delivered = false;
    for (const { origin, handler } of this.#subscriptions) {
      if (message.origin === origin) continue;
      delivered = true;
      this.#safely(() => handler(message));
    }
    if (delivered) this.#stats.received++;
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#error(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #error(error: Error): void {
    this.#stats.errors++;
    try {
      this.#options.onError?.(error);
    } catch {
      // Reporting must never throw into ioredis' event emitter.
    }
  }
}

/** The message in `text`, or undefined when it is not one the bus could have published. */
function parseMessage(text: string): InvalidationMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (typeof m.origin !== 'string') return undefined;
  const optionalNamespace = m.namespace === undefined || typeof m.namespace === 'string';
  switch (m.type) {
    case 'delete':
      return typeof m.namespace === 'string' && isStringArray(m.keys)
        ? { type: 'delete', origin: m.origin, namespace: m.namespace, keys: m.keys }
        : undefined;
    case 'tags':
      return optionalNamespace && isStringArray(m.tags)
        ? {
            type: 'tags',
            origin: m.origin,
            tags: m.tags,
            ...(m.namespace === undefined ? {} : { namespace: m.namespace as string }),
          }
        : undefined;
    case 'clear':
      return optionalNamespace
        ? {
            type: 'clear',
            origin: m.origin,
            ...(m.namespace === undefined ? {} : { namespace: m.namespace as string }),
          }
        : undefined;
    default:
      return undefined;
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

const NO_ANSWER = (ms: number) => `no answer from Redis in ${ms} ms`;
