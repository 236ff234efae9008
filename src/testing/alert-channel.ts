import { randomUUID } from 'node:crypto';
import type { Alert, AlertChannel, AlertNotification } from '../alerts/types.js';
import type { TestApi } from './test-api.js';

/** A channel under test and a view of its destination. */
export interface AlertChannelUnderTest {
  channel: AlertChannel;
  /**
   * How many notifications the destination has received so far, refused ones included: requests
   * at an HTTP receiver, messages at an SMTP server, calls of a function.
   */
  received(): number | Promise<number>;
  /** Stops the destination (a local server...). Runs after the suite closed the channel. */
  cleanup?(): unknown;
}

/** How a conformance run builds the channel under test. */
export interface AlertChannelHarness {
  /**
   * A fresh channel and destination, isolated from every other test. With `fail: true` the
   * destination refuses every delivery: an HTTP 500, an SMTP 550, a function that throws.
   */
  create(destination: { fail: boolean }): AlertChannelUnderTest | Promise<AlertChannelUnderTest>;
  /** The class a refused delivery rejects with. @defaultValue Error */
  errorType?: abstract new (
    ...args: any[]
  ) => Error;
}

/**
 * An alert to put in test notifications: `HighLatency`, critical, firing at 620.
 *
 * @example
 * ```ts
 * const resolved = sampleAlert({ state: 'resolved', resolvedAt: new Date().toISOString() });
 * ```
 */
export function sampleAlert(overrides: Partial<Alert> = {}): Alert {
  const now = new Date().toISOString();
  return {
    fingerprint: 'f3a1c2d4e5b60718',
    rule: 'HighLatency',
    state: 'firing',
    severity: 'critical',
    labels: { alertname: 'HighLatency', operation: 'GET /users', region: 'eu-west-1' },
    annotations: { summary: 'p95 of GET /users is 620 ms (above 500 ms)' },
    value: 620,
    verdict: { breached: true, value: 620, expected: 500, reason: '620 is above 500' },
    activeAt: now,
    firingAt: now,
    lastEvaluatedAt: now,
    ...overrides,
  };
}

/**
 * A notification to send in tests: a fresh `id`, one {@link sampleAlert}, kind `firing`.
 *
 * @example
 * ```ts
 * await channel.send(sampleNotification({ kind: 'resolved' }));
 * ```
 */
export function sampleNotification(overrides: Partial<AlertNotification> = {}): AlertNotification {
  const alerts = overrides.alerts ?? [sampleAlert()];
  return {
    id: randomUUID(),
    kind: 'firing',
    group: 'alertname=HighLatency',
    step: 0,
    alerts,
    createdAt: new Date().toISOString(),
    title: `[FIRING:${alerts.length}] HighLatency (GET /users)`,
    ...overrides,
  };
}

/**
 * The contract every {@link AlertChannel} passes: a stable name, `send` resolving once the
 * destination has the notification and rejecting with an error when it refuses it, an already
 * aborted signal honoured without delivering, concurrent sends each delivered once, and an
 * idempotent `close`. The package's webhook, Slack, email, log and function channels run it.
 *
 * @param api - the runner's test functions (see {@link TestApi}).
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { describeAlertChannel } from '@revcopy/enterprise/testing';
 *
 * describeAlertChannel('pager', vitest, {
 *   async create({ fail }) {
 *     const server = await startFakePager({ status: fail ? 500 : 202 });
 *     const channel = pagerChannel({ name: 'pager', url: server.url });
 *     return { channel, received: () => server.requests.length, cleanup: () => server.close() };
 *   },
 * });
 * ```
 */
export function describeAlertChannel(
  name: string,
  api: TestApi,
  harness: AlertChannelHarness,
): void {
  const { describe, it, expect, afterEach } = api;
  const errorType = harness.errorType ?? Error;
  describe(`AlertChannel conformance: ${name}`, () => {
    let opened: AlertChannelUnderTest[] = [];
    const create = async (fail: boolean): Promise<AlertChannelUnderTest> => {
      const underTest = await harness.create({ fail });
      opened.push(underTest);
      return underTest;
    };
    afterEach(async () => {
      const ending = opened;
      opened = [];
      for (const { channel, cleanup } of ending) {
        await channel.close?.();
        await cleanup?.();
      }
    });

    it('has a non-empty name that stays the same through sends and close', async () => {
      const { channel } = await create(false);
      const first = channel.name;
      expect(typeof first).toBe('string');
      expect(first.length).toBeGreaterThan(0);
      await channel.send(sampleNotification());
      expect(channel.name).toBe(first);
      await channel.close?.();
      expect(channel.name).toBe(first);
    });

    it('resolves once the destination has the notification', async () => {
      const { channel, received } = await create(false);
      await expect(channel.send(sampleNotification())).resolves.toBeUndefined();
      expect(await received()).toBe(1);
    });

    it('delivers resolved notifications and text holding markup and non-ASCII characters', async () => {
      const { channel, received } = await create(false);
      const tricky = sampleAlert({
        state: 'resolved',
        severity: 'warning',
        resolvedAt: new Date().toISOString(),
        labels: { alertname: 'Odd', path: '/a?b=<c>&d="e"', city: 'Zürich ✓' },
        annotations: { summary: '<script>alert("x")</script> & ünïcødé — 100% `code` *bold*' },
        value: null,
      });
      await channel.send(
        sampleNotification({ kind: 'resolved', alerts: [tricky], title: '[RESOLVED] Odd <b>' }),
      );
      expect(await received()).toBe(1);
    });

    it('delivers concurrent sends, each once', async () => {
      const { channel, received } = await create(false);
      await Promise.all([1, 2, 3].map(() => channel.send(sampleNotification())));
      expect(await received()).toBe(3);
    });

    it('rejects with an error when the destination refuses the notification', async () => {
      const { channel } = await create(true);
      const error = await channel.send(sampleNotification()).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(errorType);
      expect((error as Error).message.length).toBeGreaterThan(0);
    });

    it('rejects an already-aborted signal without delivering, and still delivers afterwards', async () => {
      const { channel, received } = await create(false);
      const controller = new AbortController();
      controller.abort(new Error('shutting down'));
      const error = await channel.send(sampleNotification(), controller.signal).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(Error);
      expect(await received()).toBe(0);
      await channel.send(sampleNotification(), new AbortController().signal);
      expect(await received()).toBe(1);
    });

    it('closes idempotently, used or not', async () => {
      // A channel without close() holds nothing to release; it passes trivially.
      const close = (channel: AlertChannel) => Promise.resolve(channel.close?.());
      const unused = await create(false);
      await expect(close(unused.channel)).resolves.toBeUndefined();
      await expect(close(unused.channel)).resolves.toBeUndefined();
      const used = await create(false);
      await used.channel.send(sampleNotification());
      await expect(close(used.channel)).resolves.toBeUndefined();
      await expect(close(used.channel)).resolves.toBeUndefined();
    });
  });
}
