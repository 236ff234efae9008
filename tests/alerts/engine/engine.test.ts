import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Alerts } from '../../../src/alerts/alerts.js';
import type { SeriesValue } from '../../../src/alerts/types.js';
import { eventually } from '../../support/eventually.js';
import { channel, memoryLogger, SECOND, testAlerts } from './helpers.js';

describe('the engine', () => {
  let alerts: Alerts | undefined;
  afterEach(async () => {
    await alerts?.close();
    alerts = undefined;
  });

  it('reads each source once per tick, however many rules watch it', async () => {
    let reads = 0;
    const t = testAlerts({
      sources: [
        {
          name: 'queue.depth',
          read: async (): Promise<SeriesValue[]> => {
            reads++;
            return [
              { labels: { queue: 'mail' }, value: 120 },
              { labels: { queue: 'pdf' }, value: 3 },
            ];
          },
        },
      ],
    });
    alerts = t.alerts;
    alerts.rule({ name: 'Backlog', watch: 'queue.depth', condition: { above: 100 } });
    alerts.rule({ name: 'Idle', watch: 'queue.depth', condition: { below: 5 } });
    alerts.rule({
      name: 'MailOnly',
      watch: 'queue.depth',
      where: { queue: 'mail' },
      condition: { above: 1 },
    });
    await t.step(0);
    expect(reads).toBe(1);
    expect(
      alerts
        .list()
        .map((a) => `${a.rule}:${a.labels.queue}`)
        .sort(),
    ).toEqual(['Backlog:mail', 'Idle:pdf', 'MailOnly:mail']);
    await t.step(SECOND);
    expect(reads).toBe(2);
  });

  it('evaluates each rule at its own interval', async () => {
    let fast = 0;
    let slow = 0;
    const t = testAlerts();
    alerts = t.alerts;
    alerts.rule({ name: 'Fast', watch: () => ++fast, condition: { above: 1e9 } });
    alerts.rule({ name: 'Slow', watch: () => ++slow, condition: { above: 1e9 }, interval: '10s' });
    for (let i = 0; i < 20; i++) await t.step(i === 0 ? 0 : SECOND);
    expect(fast).toBe(20);
    expect(slow).toBe(2);
  });

  it('filters the list by state, severity and labels, most severe first', async () => {
    const t = testAlerts();
    alerts = t.alerts;
    alerts.rule({
      name: 'A',
      watch: () => 1,
      condition: { above: 0 },
      severity: 'info',
      labels: { team: 'x' },
    });
    alerts.rule({
      name: 'B',
      watch: () => 1,
      condition: { above: 0 },
      severity: 'critical',
      labels: { team: 'y' },
    });
    alerts.rule({ name: 'C', watch: () => 1, condition: { above: 0 }, for: '1m' });
    await t.step(0);
    expect(alerts.list().map((a) => a.rule)).toEqual(['B', 'C', 'A']);
    expect(alerts.list({ state: 'firing' }).map((a) => a.rule)).toEqual(['B', 'A']);
    expect(alerts.list({ severity: ['info', 'warning'] }).map((a) => a.rule)).toEqual(['C', 'A']);
    expect(alerts.list({ labels: { team: 'y' } }).map((a) => a.rule)).toEqual(['B']);
    const summary = alerts.rules().find((r) => r.name === 'C')!;
    expect(summary).toMatchObject({
      watch: 'function',
      states: { pending: 1 },
      definition: { for: '1m' },
    });
  });

  it('never awaits delivery inside evaluation, and contains a throwing deliver hook', async () => {
    const handed: string[] = [];
    const t = testAlerts({
      route: { groupWait: 0 },
      deliveryTimeout: '100ms',
      channels: [channel('a'), channel('b')],
      deliver: (name) => {
        handed.push(name);
        if (name === 'a') return new Promise<void>(() => undefined); // never settles
        throw new Error('queue full');
      },
    });
    alerts = t.alerts;
    alerts.rule({ name: 'X', watch: () => 1, condition: { above: 0 } });
    await t.step(0);
    expect(handed.sort()).toEqual(['a', 'b']);
    expect(alerts.channels().find((c) => c.name === 'b')).toMatchObject({
      failed: 1,
      lastError: 'queue full',
    });
    expect(alerts.list()[0]!.deliveries).toMatchObject({
      a: { outcome: 'pending' },
      b: { outcome: 'failure' },
    });
  });

  it('tells the channels an alert of a removed rule resolved', async () => {
    const t = testAlerts({ route: { groupWait: 0, groupInterval: '1s' } });
    alerts = t.alerts;
    const handle = alerts.rule({ name: 'Gone', watch: () => 1, condition: { above: 0 } });
    await t.step(0);
    expect(t.rec.to('log', 'firing')).toHaveLength(1);
    handle.remove();
    expect(alerts.list()).toEqual([]);
    await t.step(SECOND);
    expect(t.rec.to('log', 'resolved').map((n) => n.title)).toEqual(['[RESOLVED:1] Gone']);
  });

  it('keeps evaluating when a listener throws', async () => {
    const t = testAlerts();
    alerts = t.alerts;
    alerts.on('transition', () => {
      throw new Error('listener bug');
    });
    const seen: string[] = [];
    alerts.on('firing', (a) => seen.push(a.rule));
    alerts.rule({ name: 'X', watch: () => 1, condition: { above: 0 } });
    await t.step(0);
    expect(seen).toEqual(['X']);
    expect(t.logger.lines.some((l) => l.level === 'error' && l.fields.event === 'transition')).toBe(
      true,
    );
  });

  it('exposes metric families with the tick duration and evaluation count', async () => {
    const t = testAlerts();
    alerts = t.alerts;
    alerts.rule({ name: 'X', watch: () => 1, condition: { above: 0 }, severity: 'critical' });
    await t.step(0);
    await t.step(SECOND);
    const families = Object.fromEntries(alerts.metricFamilies().map((f) => [f.name, f]));
    expect(families.enterprise_alerts!.samples).toEqual([
      {
        name: 'enterprise_alerts',
        labels: { alertname: 'X', severity: 'critical', state: 'firing' },
        value: 1,
      },
    ]);
    expect(families.enterprise_alerts_evaluations_total!.samples[0]!.value).toBe(2);
    expect(families.enterprise_alerts_evaluation_duration_seconds!.type).toBe('gauge');
    expect(families.enterprise_alerts_store_up!.samples[0]!.value).toBe(1);
  });

  it("runs on an unref'd timer without overlapping ticks, and stops", async () => {
    let running = 0;
    let overlapped = false;
    let reads = 0;
    alerts = new Alerts({ evaluationInterval: '20ms', logger: memoryLogger() });
    alerts.rule({
      name: 'Slowish',
      condition: { above: 1e9 },
      watch: async () => {
        running++;
        if (running > 1) overlapped = true;
        reads++;
        await sleep(30); // longer than the interval
        running--;
        return 1;
      },
    });
    alerts.start();
    alerts.start(); // idempotent
    await eventually(() => reads >= 4, 'four evaluations', 2_000);
    alerts.stop();
    const after = reads;
    await sleep(100);
    expect(reads - after).toBeLessThanOrEqual(1);
    expect(overlapped).toBe(false);
  });

  it('waits for deliveries in flight on close, and closes channels', async () => {
    let closed = false;
    let finished = false;
    const slowChannel = {
      name: 'slow',
      send: async () => {
        await sleep(50);
        finished = true;
      },
      close: async () => {
        closed = true;
      },
    };
    const t = testAlerts({ channels: [slowChannel], route: { groupWait: 0 }, deliver: undefined });
    t.alerts.rule({ name: 'X', watch: () => 1, condition: { above: 0 } });
    await t.step(0);
    expect(finished).toBe(false);
    await t.alerts.close();
    expect(finished).toBe(true);
    expect(closed).toBe(true);
    await t.alerts.evaluate(); // after close: a no-op, no throw
  });
});
