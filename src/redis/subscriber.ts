import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { RedisClient } from './client.js';

/**
 * Options of a connection that subscribes: ioredis' own re-subscription after a reconnection
 * sends SUBSCRIBE without handling its rejection, so a connection closed before the reply (a
 * shutdown during a reconnection) would surface "Connection is closed." as an unhandled
 * rejection. Subscribers of this package use {@link resubscribeOnReady} instead.
 */
export const SUBSCRIBER_OPTIONS: Partial<RedisOptions> = { autoResubscribe: false };

/**
 * @internal A connection for subscribing, like `client` (same server or Cluster, same options)
 * with {@link SUBSCRIBER_OPTIONS}.
 *
 * @example
 * ```ts
 * const subscriber = subscriberOf(givenClient);
 * ```
 */
export function subscriberOf(client: RedisClient): RedisClient {
  if (client.isCluster) {
    const cluster = client as Cluster;
    return cluster.duplicate(undefined, {
      redisOptions: { ...cluster.options.redisOptions, ...SUBSCRIBER_OPTIONS },
    });
  }
  return (client as Redis).duplicate(SUBSCRIBER_OPTIONS);
}

/**
 * @internal Keeps `subscriber` (a connection with {@link SUBSCRIBER_OPTIONS}) subscribed to
 * `channels`: subscribes now when the connection is ready (or lazy, which the command connects),
 * else at its coming `ready`, and again on every later `ready`, since a reconnection loses the
 * subscriptions. `channels` may be a function, read at each subscription; an empty list skips it
 * (nothing to listen to yet, or closing).
 *
 * A failed SUBSCRIBE goes to `onError`, never to an unhandled rejection; the next `ready` tries
 * again. `onSubscribed(reconnected)` follows each confirmed subscription; `reconnected` says the
 * connection had been ready before, so messages published meanwhile were lost. The returned
 * function stops it: no further subscription, and what was in flight reports nothing (the
 * connection is being closed).
 *
 * @example
 * ```ts
 * const stop = resubscribeOnReady(
 *   subscriber,
 *   () => (closing ? [] : [channel]),
 *   (error) => log.warn({ err: error }, 'subscribe failed'),
 *   (reconnected) => reconnected && localCache.clear(),
 * );
 * // on close:
 * stop();
 * await quitClient(subscriber);
 * ```
 */
export function resubscribeOnReady(
  subscriber: RedisClient,
  channels: readonly string[] | (() => readonly string[]),
  onError: (error: Error) => void,
  onSubscribed?: (reconnected: boolean) => void,
): () => void {
  let stopped = false;
  let readyBefore = subscriber.status === 'ready';
  const report = (error: unknown) => {
    if (stopped) return;
    try {
      onError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // Reporting must never throw into ioredis' event emitter.
    }
  };
  const subscribe = (reconnected: boolean) => {
    let pending: Promise<unknown>;
    try {
      const list = typeof channels === 'function' ? channels() : channels;
      if (list.length === 0) return;
      pending = subscriber.subscribe(...list);
    } catch (error) {
      report(error);
      return;
    }
    pending.then(() => {
      if (stopped) return;
      try {
        onSubscribed?.(reconnected);
      } catch (error) {
        report(error);
      }
    }, report);
  };
  const onReady = () => {
    if (stopped) return;
    const reconnected = readyBefore;
    readyBefore = true;
    subscribe(reconnected);
  };
  subscriber.on('ready', onReady);
  if (subscriber.status === 'ready' || subscriber.status === 'wait') subscribe(false);
  return () => {
    stopped = true;
    subscriber.off('ready', onReady);
  };
}
