import * as vitest from 'vitest';
import { describe, expect, it } from 'vitest';
import { functionChannel } from '../../../src/alerts/channels/index.js';
import { AlertChannelError } from '../../../src/alerts/errors.js';
import type { AlertNotification } from '../../../src/alerts/types.js';
import { describeAlertChannel, sampleNotification } from '../../../src/testing/index.js';
import { rejectionOf, thrownBy } from './thrown.js';

describeAlertChannel('function', vitest, {
  errorType: AlertChannelError,
  create({ fail }) {
    let calls = 0;
    const channel = functionChannel('fn', async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail) throw new Error('pager API answered 503');
    });
    return { channel, received: () => calls };
  },
});

describe('functionChannel', () => {
  it('calls the function with the notification and the signal', async () => {
    const seen: [AlertNotification, AbortSignal | undefined][] = [];
    const channel = functionChannel('pager', (notification, signal) => {
      seen.push([notification, signal]);
    });
    const notification = sampleNotification();
    const { signal } = new AbortController();
    await channel.send(notification, signal);
    expect(channel.name).toBe('pager');
    expect(seen).toEqual([[notification, signal]]);
  });

  it('wraps what the function throws, sync or async, as the cause of an AlertChannelError', async () => {
    const cause = new Error('pager API answered 503');
    for (const fn of [
      () => {
        throw cause;
      },
      async () => Promise.reject(cause),
    ]) {
      const error = (await rejectionOf(
        functionChannel('pager', fn).send(sampleNotification()),
      )) as AlertChannelError;
      expect(error).toBeInstanceOf(AlertChannelError);
      expect(error.context).toEqual({ channel: 'pager' });
      expect(error.message).toBe('channel "pager": pager API answered 503');
      expect(error.cause).toBe(cause);
    }
    const thrownString = await rejectionOf(
      functionChannel('pager', () => Promise.reject('no')).send(sampleNotification()),
    );
    expect(thrownString).toBeInstanceOf(AlertChannelError);
    expect(thrownString.cause).toBe('no');
  });

  it('passes an AlertChannelError thrown by the function through unchanged', async () => {
    const own = new AlertChannelError('rate limited', { channel: 'pager', retryAfterMs: 1_000 });
    const error = await rejectionOf(
      functionChannel('pager', () => Promise.reject(own)).send(sampleNotification()),
    );
    expect(error).toBe(own);
  });

  it('lets its caller go when the signal aborts, even if the function ignores it', async () => {
    const channel = functionChannel('slow', () => new Promise(() => undefined));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    const error = (await rejectionOf(
      channel.send(sampleNotification(), controller.signal),
    )) as AlertChannelError;
    expect(error).toBeInstanceOf(AlertChannelError);
    expect(error.context).toEqual({ channel: 'slow', aborted: true });
    expect((error.cause as Error).message).toBe('shutting down');
  });

  it('refuses a blank name or something that is not a function at creation', () => {
    expect(thrownBy(() => functionChannel('', () => undefined))).toBeInstanceOf(AlertChannelError);
    expect(thrownBy(() => functionChannel('x', 'nope' as never))).toBeInstanceOf(AlertChannelError);
  });
});
