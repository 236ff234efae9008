import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Alerts } from '../../../src/alerts/alerts.js';
import type { AlertsOptions } from '../../../src/alerts/options.js';
import { createClient, quitClient, whenReady } from '../../../src/redis/client.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import {
  channel,
  fakeClock,
  gauge,
  HOUR,
  MINUTE,
  memoryLogger,
  recorder,
  SECOND,
} from './helpers.js';

/** Two escalation steps and an hourly repeat, shared by both instances. */
const escalation: AlertsOptions = {
  channels: [channel('chat'), channel('pager')],
  route: { groupWait: '30s', groupInterval: '5m' },
  policies: [
    {
      name: 'oncall',
      steps: [
        { after: 0, channels: ['chat'] },
        { after: '5m', channels: ['pager'] },
      ],
      repeat: '1h',
    },
  ],
  evaluationInterval: '1s',
};

describe.runIf(requires(redis))('several instances on one Redis store', () => {
  let admin: Redis;
  const prefixes: string[] = [];
  const open: Alerts[] = [];
  beforeAll(async () => {
    admin = createClient(REDIS_URL, 1_000, undefined);
    await whenReady(admin, 2_000);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await admin.keys(`{${prefix}}:*`);
      if (keys.length > 0) await admin.del(...keys);
    }
    await quitClient(admin);
  });

  /** Two instances on one prefix and one clock, evaluating the same firing rule. */
  function pair() {
    const prefix = `test:alerts:${randomUUID()}`;
    prefixes.push(prefix);
    const clock = fakeClock();
    const rec = recorder();
    const disk = gauge(95);
    const make = () => {
      const alerts = new Alerts({
        ...escalation,
        clock,
        redisUrl: REDIS_URL,
        prefix,
        logger: memoryLogger(),
        deliver: rec.deliver,
      });
      alerts.rule({ name: 'DiskFull', watch: disk.read, condition: { above: 90 } });
      open.push(alerts);
      return alerts;
    };
    const a = make();
    const b = make();
    /** Both instances evaluate at `ms`; `b` lags `lag` behind. */
    const both = async (ms: number, lag = 0) => {
      clock.set(ms);
      await a.evaluate();
      clock.set(ms + lag);
      await b.evaluate();
    };
    /** Both evaluate every `every` up to `ms`. */
    const runTo = async (ms: number, every: number, lag = 0) => {
      for (let t = clock.t - (clock.t % every) + every; t <= ms; t += every) await both(t, lag);
    };
    return { a, b, rec, disk, clock, both, runTo, prefix };
  }

  it('sends one notification per step and per repeat for the whole deployment', async () => {
    const { rec, disk, both, runTo } = pair();
    await both(0, 2 * SECOND);
    await runTo(30 * SECOND + 2 * SECOND, SECOND, 2 * SECOND);
    expect(rec.to('chat')).toHaveLength(1);
    expect(rec.to('pager')).toHaveLength(0);
    await runTo(5 * MINUTE + 2 * SECOND, 10 * SECOND, 2 * SECOND);
    expect(rec.to('chat')).toHaveLength(1);
    expect(rec.to('pager')).toHaveLength(1);
    expect(rec.to('pager')[0]).toMatchObject({ kind: 'firing', step: 1 });
    await runTo(HOUR + 5 * MINUTE + 10 * SECOND, MINUTE, 2 * SECOND);
    expect(rec.to('chat', 'repeat')).toHaveLength(1);
    expect(rec.to('pager', 'repeat')).toHaveLength(1);
    // Both instances made the same notification: the same id, sent once.
    expect(new Set(rec.sent.map((s) => s.notification.id)).size).toBe(rec.sent.length);

    disk.value = 10;
    await runTo(HOUR + 15 * MINUTE, MINUTE, 2 * SECOND);
    expect(rec.to('chat', 'resolved')).toHaveLength(1);
    expect(rec.to('pager', 'resolved')).toHaveLength(1);
    expect(rec.sent).toHaveLength(6);
  });

  it('counts the notifications another instance sent as deduplicated', async () => {
    const { a, b, rec, both } = pair();
    await both(0);
    await both(30 * SECOND);
    expect(rec.sent).toHaveLength(1);
    const dedupe = (x: Alerts) =>
      x
        .metricFamilies()
        .find((f) => f.name === 'enterprise_alert_notifications_total')!
        .samples.filter((s) => s.labels.outcome === 'deduplicated')
        .reduce((sum, s) => sum + s.value, 0);
    expect(dedupe(a) + dedupe(b)).toBe(1);
  });

  it('share acknowledgements, silences and history', async () => {
    const { a, b, rec, both, runTo } = pair();
    await both(0);
    await both(30 * SECOND);
    const [alert] = a.list();
    expect(b.get(alert!.fingerprint)).toBeDefined();

    await a.acknowledge(alert!.fingerprint, { by: 'dave' });
    await both(31 * SECOND);
    expect(b.get(alert!.fingerprint)!.acknowledged).toMatchObject({ by: 'dave' });
    // The acknowledgement stops escalation on both instances.
    await runTo(2 * HOUR, MINUTE);
    expect(
      rec.sent
        .filter((s) => s.notification.kind !== 'acknowledged')
        .map((s) => s.notification.kind),
    ).toEqual(['firing']);

    const silence = await b.silence({
      matchers: [{ name: 'alertname', value: 'DiskFull' }],
      duration: '1h',
      createdBy: 'dave',
    });
    await both(2 * HOUR + SECOND);
    expect(a.get(alert!.fingerprint)!.silencedBy).toEqual([silence.id]);
    expect((await a.silences()).map((s) => s.id)).toEqual([silence.id]);
    expect(await a.expireSilence(silence.id)).toBe(true);
    await both(2 * HOUR + 2 * SECOND);
    expect(b.get(alert!.fingerprint)!.silencedBy).toBeUndefined();

    // Both recorded the same transitions; history holds each once.
    expect((await b.history(10)).map((t) => `${t.from}>${t.to}`)).toEqual(['inactive>firing']);
  });
});

describe('Redis down', () => {
  let closedPort = 0;
  beforeAll(async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closedPort = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('keeps evaluating and notifying (deduplicated locally), without hanging or unhandled rejections', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const clock = fakeClock();
    const rec = recorder();
    const logger = memoryLogger();
    const alerts = new Alerts({
      ...escalation,
      clock,
      logger,
      deliver: rec.deliver,
      redisUrl: `redis://127.0.0.1:${closedPort}`,
      commandTimeoutMs: 200,
    });
    try {
      alerts.rule({ name: 'DiskFull', watch: () => 95, condition: { above: 90 } });
      const started = Date.now();
      for (let t = 0; t <= 40 * SECOND; t += 10 * SECOND) {
        clock.set(t);
        await alerts.evaluate();
      }
      expect(Date.now() - started).toBeLessThan(5 * 1_000);
      expect(alerts.list()[0]).toMatchObject({ state: 'firing' });
      expect(rec.to('chat')).toHaveLength(1);
      clock.set(50 * SECOND);
      await alerts.evaluate();
      expect(rec.to('chat')).toHaveLength(1);

      // Operator actions still work locally.
      const fingerprint = alerts.list()[0]!.fingerprint;
      await expect(alerts.acknowledge(fingerprint, { by: 'x' })).resolves.toMatchObject({
        acknowledged: { by: 'x' },
      });
      await expect(
        alerts.silence({
          matchers: [{ name: 'alertname', value: 'DiskFull' }],
          duration: '1h',
          createdBy: 'x',
        }),
      ).resolves.toMatchObject({ createdBy: 'x' });
      clock.set(60 * SECOND);
      await alerts.evaluate();
      expect(alerts.get(fingerprint)).toMatchObject({ acknowledged: { by: 'x' } });
      expect(alerts.get(fingerprint)!.silencedBy).toHaveLength(1);
      expect(await alerts.history(5)).toHaveLength(1);
      expect(
        alerts.metricFamilies().find((f) => f.name === 'enterprise_alerts_store_up')!.samples[0]!
          .value,
      ).toBe(0);
      expect(
        logger.lines.some((l) => l.level === 'warn' && /alert store unavailable/.test(l.message)),
      ).toBe(true);
    } finally {
      const closing = Date.now();
      await alerts.close();
      expect(Date.now() - closing).toBeLessThan(3_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
