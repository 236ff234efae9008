import { Alerts } from '../../../src/alerts/alerts.js';
import type { AlertsOptions } from '../../../src/alerts/options.js';
import type { AlertChannel, AlertNotification } from '../../../src/alerts/types.js';
import type { Clock } from '../../../src/core/clock.js';
import type { Logger } from '../../../src/core/logger.js';

/** 2023-11-14T22:13:20Z: a round epoch for readable timestamps. */
export const EPOCH = 1_700_000_000_000;

/** A clock tests step by hand; `epochNow()` is EPOCH plus the monotonic time. */
export function fakeClock(): Clock & {
  advance(ms: number): void;
  set(ms: number): void;
  t: number;
} {
  const clock = {
    t: 0,
    now: () => clock.t,
    epochNow: () => EPOCH + clock.t,
    advance(ms: number) {
      clock.t += ms;
    },
    set(ms: number) {
      clock.t = ms;
    },
  };
  return clock;
}

export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;

/** A logger that keeps its lines, for tests that check what was logged. */
export function memoryLogger(): Logger & {
  lines: { level: string; fields: Record<string, unknown>; message: string }[];
} {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const make = (bindings: Record<string, unknown>): Logger => ({
    debug: (fields, message) =>
      lines.push({ level: 'debug', fields: { ...bindings, ...fields }, message }),
    info: (fields, message) =>
      lines.push({ level: 'info', fields: { ...bindings, ...fields }, message }),
    warn: (fields, message) =>
      lines.push({ level: 'warn', fields: { ...bindings, ...fields }, message }),
    error: (fields, message) =>
      lines.push({ level: 'error', fields: { ...bindings, ...fields }, message }),
    child: (extra) => make({ ...bindings, ...extra }),
  });
  return Object.assign(make({}), { lines });
}

/** Records what the engine hands over for delivery, synchronously: no flush needed. */
export function recorder() {
  const sent: { channel: string; notification: AlertNotification }[] = [];
  return {
    sent,
    deliver: (channel: string, notification: AlertNotification) => {
      sent.push({ channel, notification });
    },
    /** Deliveries to `channel` (all channels when omitted), optionally of one kind. */
    to(channel?: string, kind?: AlertNotification['kind']) {
      return sent
        .filter((s) => channel === undefined || s.channel === channel)
        .filter((s) => kind === undefined || s.notification.kind === kind)
        .map((s) => s.notification);
    },
    clear() {
      sent.length = 0;
    },
  };
}

/** A channel that records what it is sent (or fails, when told to). */
export function channel(
  name: string,
  behaviour: { fail?: boolean } = {},
): AlertChannel & { received: AlertNotification[] } {
  const received: AlertNotification[] = [];
  return {
    name,
    received,
    async send(notification) {
      if (behaviour.fail) throw new Error(`${name} is down`);
      received.push(notification);
    },
  };
}

/** A value that tests change between evaluations. */
export function gauge(initial: number | null = 0) {
  const g = {
    value: initial as number | null | (() => never),
    read: () => {
      const v = g.value;
      if (typeof v === 'function') return v();
      return v as number;
    },
  };
  return g;
}

/** An engine on a fake clock, evaluated every second, with a recording deliver hook. */
export function testAlerts(options: AlertsOptions = {}) {
  const clock = fakeClock();
  const rec = recorder();
  const logger = memoryLogger();
  const alerts = new Alerts({
    evaluationInterval: '1s',
    clock,
    logger,
    deliver: rec.deliver,
    ...options,
  });
  /** Steps the clock by `ms`, then evaluates. */
  const step = async (ms: number) => {
    clock.advance(ms);
    await alerts.evaluate();
  };
  /** Steps to `ms` (absolute), one evaluation per `every` on the way. */
  const runTo = async (ms: number, every = 10 * SECOND) => {
    while (clock.t + every <= ms) await step(every);
    if (clock.t < ms) await step(ms - clock.t);
  };
  return { alerts, clock, rec, logger, step, runTo };
}

/** Lets delivery promises (channel.send) settle. */
export const flush = () => new Promise((resolve) => setImmediate(resolve));
