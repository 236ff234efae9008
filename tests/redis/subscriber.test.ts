import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RedisClient } from '../../src/redis/client.js';
import { resubscribeOnReady, SUBSCRIBER_OPTIONS } from '../../src/redis/subscriber.js';
import { eventually } from '../support/eventually.js';
import { connectionIds } from '../support/redis-connections.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';

/** A stand-in connection: its status, the SUBSCRIBEs it was sent, and how they settle. */
function fakeSubscriber(status: string) {
  const emitter = new EventEmitter();
  const calls: string[][] = [];
  const settle: { next: 'ok' | 'fail' | 'hang' } = { next: 'ok' };
  const pending: ((error?: Error) => void)[] = [];
  const client = Object.assign(emitter, {
    status,
    subscribe: (...channels: string[]) => {
      calls.push(channels);
      if (settle.next === 'fail') return Promise.reject(new Error('Connection is closed.'));
      if (settle.next === 'hang') {
        return new Promise<void>((resolve, reject) =>
          pending.push((error) => (error ? reject(error) : resolve())),
        );
      }
      return Promise.resolve(channels.length);
    },
  });
  const ready = () => {
    client.status = 'ready';
    client.emit('ready');
  };
  return { client: client as unknown as RedisClient, calls, settle, pending, ready };
}

describe('resubscribeOnReady', () => {
  it('subscribes at the coming ready, then again on every ready, saying when it is again', async () => {
    const fake = fakeSubscriber('connecting');
    const subscribed = vi.fn();
    resubscribeOnReady(fake.client, ['a', 'b'], () => undefined, subscribed);
    expect(fake.calls).toEqual([]);
    fake.ready();
    fake.ready();
    await sleep(0);
    expect(fake.calls).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(subscribed.mock.calls).toEqual([[false], [true]]);
  });

  it('subscribes now on a ready connection (or a lazy one), and after a reconnection again', async () => {
    for (const status of ['ready', 'wait']) {
      const fake = fakeSubscriber(status);
      const subscribed = vi.fn();
      resubscribeOnReady(fake.client, ['a'], () => undefined, subscribed);
      expect(fake.calls).toEqual([['a']]);
      fake.ready();
      await sleep(0);
      expect(fake.calls).toHaveLength(2);
      // Ready before it was installed: the next ready is a reconnection; lazy: the first ready.
      expect(subscribed.mock.calls).toEqual([[false], [status === 'ready']]);
    }
  });

  it('reads the channels at each subscription, and skips it when there are none', async () => {
    const fake = fakeSubscriber('connecting');
    let channels: string[] = [];
    resubscribeOnReady(
      fake.client,
      () => channels,
      () => undefined,
    );
    fake.ready();
    channels = ['x'];
    fake.ready();
    channels = ['x', 'y'];
    fake.ready();
    expect(fake.calls).toEqual([['x'], ['x', 'y']]);
  });

  it('hands a failed subscription to onError, never to an unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const fake = fakeSubscriber('connecting');
      const errors: Error[] = [];
      const subscribed = vi.fn();
      resubscribeOnReady(fake.client, ['a'], (error) => errors.push(error), subscribed);
      fake.settle.next = 'fail';
      fake.ready();
      // A channels function or onError that throws is contained too.
      const throwing = fakeSubscriber('connecting');
      resubscribeOnReady(
        throwing.client,
        () => {
          throw new Error('no channels');
        },
        () => {
          throw new Error('reporter bug');
        },
      );
      throwing.ready();
      await sleep(20);
      expect(errors.map((e) => e.message)).toEqual(['Connection is closed.']);
      expect(subscribed).not.toHaveBeenCalled();
      // The next ready tries again.
      fake.settle.next = 'ok';
      fake.ready();
      await sleep(0);
      expect(subscribed.mock.calls).toEqual([[true]]);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('stops: no further subscription, nothing reported of one in flight', async () => {
    const fake = fakeSubscriber('connecting');
    const onError = vi.fn();
    const subscribed = vi.fn();
    const stop = resubscribeOnReady(fake.client, ['a'], onError, subscribed);
    fake.settle.next = 'hang';
    fake.ready();
    stop();
    fake.pending[0]!(new Error('Connection is closed.'));
    fake.ready();
    await sleep(0);
    expect(fake.calls).toEqual([['a']]);
    expect(onError).not.toHaveBeenCalled();
    expect(subscribed).not.toHaveBeenCalled();
    expect((fake.client as unknown as EventEmitter).listenerCount('ready')).toBe(0);
  });
});

describe.runIf(requires(redis))('resubscribeOnReady on real Redis', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(() => admin.quit());

  it('keeps receiving after the connection is killed', async () => {
    const channel = `test:subscriber:${randomUUID()}`;
    const name = `sub-${randomUUID().slice(0, 8)}`;
    const subscriber = new Redis(REDIS_URL, { ...SUBSCRIBER_OPTIONS, connectionName: name });
    subscriber.on('error', () => undefined);
    const got: string[] = [];
    subscriber.on('message', (_channel: string, text: string) => got.push(text));
    const subscribed = vi.fn();
    const stop = resubscribeOnReady(subscriber, [channel], () => undefined, subscribed);
    try {
      await eventually(() => subscribed.mock.calls.length === 1, 'the first subscription');
      const [id] = await connectionIds(admin, name);
      expect(await admin.client('KILL', 'ID', id!)).toBe(1);
      await eventually(() => subscribed.mock.calls.length === 2, 'the subscription again', 5_000);
      expect(subscribed.mock.calls).toEqual([[false], [true]]);
      await admin.publish(channel, 'after');
      await eventually(() => got.length === 1, 'the message');
      expect(got).toEqual(['after']);
    } finally {
      stop();
      await subscriber.quit();
    }
  });
});
