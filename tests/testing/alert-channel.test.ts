// The AlertChannel conformance suite must catch the channels that break its contract: each broken
// channel below fails exactly the tests about what it breaks, and a correct one passes them all.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AlertChannelError } from '../../src/alerts/errors.js';
import type { AlertChannel, AlertNotification } from '../../src/alerts/types.js';
import {
  type AlertChannelHarness,
  describeAlertChannel,
  sampleNotification,
} from '../../src/testing/index.js';
import { collectTests, failingTests } from '../support/suite-runner.js';

/** The names of the suite's tests that fail against `harness`. */
function failures(harness: AlertChannelHarness): Promise<string[]> {
  return failingTests(describeAlertChannel, harness);
}

type Send = (
  state: { fail: boolean; received: number },
  notification: AlertNotification,
  signal?: AbortSignal,
) => Promise<void>;

const correctSend: Send = async (state, _notification, signal) => {
  if (signal?.aborted) throw new AlertChannelError('aborted', { channel: 'c' });
  state.received++;
  if (state.fail) throw new AlertChannelError('refused', { channel: 'c', status: 500 });
};

/** A channel doing `send`, with `overrides` breaking one part of the contract. */
function harness(
  send: Send = correctSend,
  overrides: Partial<AlertChannel> = {},
): AlertChannelHarness {
  return {
    errorType: AlertChannelError,
    create({ fail }) {
      const state = { fail, received: 0 };
      const channel: AlertChannel = {
        name: 'c',
        send: (notification, signal) => send(state, notification, signal),
        async close() {},
        ...overrides,
      };
      return { channel, received: () => state.received };
    },
  };
}

const NAMES = {
  name: 'has a non-empty name that stays the same through sends and close',
  resolves: 'resolves once the destination has the notification',
  tricky: 'delivers resolved notifications and text holding markup and non-ASCII characters',
  concurrent: 'delivers concurrent sends, each once',
  refused: 'rejects with an error when the destination refuses the notification',
  aborted: 'rejects an already-aborted signal without delivering, and still delivers afterwards',
  close: 'closes idempotently, used or not',
};

describe('describeAlertChannel', () => {
  it('registers its tests without importing a runner, and a correct channel passes them all', async () => {
    expect(collectTests(describeAlertChannel, harness()).map((test) => test.name)).toEqual(
      Object.values(NAMES),
    );
    expect(await failures(harness())).toEqual([]);
  });

  it('fails a channel whose name changes', async () => {
    const changing = harness();
    const create = changing.create;
    changing.create = async (destination) => {
      const underTest = await create(destination);
      let reads = 0;
      Object.defineProperty(underTest.channel, 'name', {
        get: () => `c${reads++ > 1 ? reads : ''}`,
      });
      return underTest;
    };
    expect(await failures(changing)).toEqual([NAMES.name]);
  });

  it('fails a channel that resolves before the destination has the notification', async () => {
    const early: Send = async (state, _n, signal) => {
      if (signal?.aborted) throw new AlertChannelError('aborted', { channel: 'c' });
      setTimeout(() => state.received++, 20);
      if (state.fail) throw new AlertChannelError('refused', { channel: 'c' });
    };
    const failed = await failures(harness(early));
    expect(failed).toContain(NAMES.resolves);
    expect(failed).toContain(NAMES.concurrent);
    await sleep(50);
  });

  it('fails a channel that resolves when the destination refuses', async () => {
    const swallowing: Send = async (state, _n, signal) => {
      if (signal?.aborted) throw new AlertChannelError('aborted', { channel: 'c' });
      state.received++;
    };
    expect(await failures(harness(swallowing))).toEqual([NAMES.refused]);
  });

  it('fails a package channel that rejects with an error of another class', async () => {
    const plain: Send = async (state, _n, signal) => {
      if (signal?.aborted) throw new AlertChannelError('aborted', { channel: 'c' });
      state.received++;
      if (state.fail) throw new Error('refused');
    };
    expect(await failures(harness(plain))).toEqual([NAMES.refused]);
    // The same channel passes when plain errors are what it promises.
    expect(await failures({ ...harness(plain), errorType: Error })).toEqual([]);
  });

  it('fails a channel that delivers despite an aborted signal', async () => {
    const heedless: Send = async (state) => {
      state.received++;
      if (state.fail) throw new AlertChannelError('refused', { channel: 'c' });
    };
    expect(await failures(harness(heedless))).toEqual([NAMES.aborted]);
  });

  it('fails a channel that delivers concurrent sends once, or chokes on markup', async () => {
    let inFlight = false;
    const coalescing: Send = async (state, n, signal) => {
      if (inFlight) return;
      inFlight = true;
      await sleep(5);
      inFlight = false;
      await correctSend(state, n, signal);
    };
    expect(await failures(harness(coalescing))).toEqual([NAMES.concurrent]);
    const picky: Send = async (state, n, signal) => {
      if (n.alerts.some((alert) => /[<>&]/.test(alert.annotations.summary ?? ''))) {
        throw new AlertChannelError('bad payload', { channel: 'c' });
      }
      await correctSend(state, n, signal);
    };
    expect(await failures(harness(picky))).toEqual([NAMES.tricky]);
  });

  it('fails a channel whose close is not idempotent', async () => {
    let closes = 0;
    const once = harness(correctSend, {
      async close() {
        if (closes++ % 2 === 1) throw new Error('already closed');
      },
    });
    expect(await failures(once)).toContain(NAMES.close);
  });

  it('hands out sample notifications with fresh ids', () => {
    const a = sampleNotification();
    const b = sampleNotification({ kind: 'resolved' });
    expect(a.id).not.toBe(b.id);
    expect(b.kind).toBe('resolved');
    expect(a.alerts[0]!.rule).toBe('HighLatency');
  });
});
