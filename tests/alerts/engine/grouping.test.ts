import { afterEach, describe, expect, it } from 'vitest';
import type { Alerts } from '../../../src/alerts/alerts.js';
import type { SeriesValue } from '../../../src/alerts/types.js';
import { channel, flush, HOUR, MINUTE, SECOND, testAlerts } from './helpers.js';

/** A source with one series per operation, values set by the test. */
function latencySource() {
  const values = new Map<string, number>();
  return {
    values,
    source: {
      name: 'operation.p95',
      read: (): SeriesValue[] =>
        [...values].map(([operation, value]) => ({ labels: { operation }, value })),
    },
  };
}

describe('grouping and notification timing', () => {
  let alerts: Alerts | undefined;
  afterEach(async () => {
    await alerts?.close();
  });

  function setup(route = {}) {
    const src = latencySource();
    const t = testAlerts({
      sources: [src.source],
      route: { groupWait: '30s', groupInterval: '5m', repeatInterval: '4h', ...route },
    });
    alerts = t.alerts;
    t.alerts.rule({ name: 'HighLatency', watch: 'operation.p95', condition: { above: 500 } });
    return { ...t, values: src.values };
  }

  it('batches alerts of one group into one notification after groupWait', async () => {
    const t = setup();
    t.values.set('GET /a', 900);
    await t.step(0);
    t.values.set('GET /b', 700);
    await t.step(10 * SECOND);
    expect(t.alerts.list({ state: 'firing' })).toHaveLength(2);
    await t.runTo(29 * SECOND, SECOND);
    expect(t.rec.sent).toEqual([]);
    await t.step(SECOND);
    expect(t.rec.sent).toHaveLength(1);
    const [{ channel: name, notification }] = t.rec.sent as [(typeof t.rec.sent)[0]];
    expect(name).toBe('log');
    expect(notification).toMatchObject({
      kind: 'firing',
      step: 0,
      group: '{alertname="HighLatency"}',
    });
    expect(notification.alerts.map((a) => a.labels.operation).sort()).toEqual(['GET /a', 'GET /b']);
    expect(notification.title).toBe('[FIRING:2] HighLatency (GET /a, GET /b)');
    await t.runTo(4 * MINUTE);
    expect(t.rec.sent).toHaveLength(1);
  });

  it('tells what changed no sooner than groupInterval after the last notification', async () => {
    const t = setup();
    t.values.set('GET /a', 900);
    await t.step(0);
    await t.runTo(30 * SECOND);
    expect(t.rec.sent).toHaveLength(1);
    t.values.set('GET /c', 800);
    await t.step(30 * SECOND); // t = 60 s
    await t.runTo(5 * MINUTE + 29 * SECOND);
    expect(t.rec.sent).toHaveLength(1);
    await t.step(SECOND); // 5 m 30 s: groupInterval after the first notification
    expect(t.rec.sent).toHaveLength(2);
    expect(t.rec.sent[1]!.notification).toMatchObject({ kind: 'firing' });
    expect(t.rec.sent[1]!.notification.alerts).toHaveLength(2);

    // One resolves: reported, again only after groupInterval.
    t.values.set('GET /a', 100);
    await t.runTo(10 * MINUTE + 29 * SECOND);
    expect(t.rec.sent).toHaveLength(2);
    await t.step(SECOND);
    const update = t.rec.sent[2]!.notification;
    expect(update.kind).toBe('firing');
    expect(update.alerts.map((a) => `${a.labels.operation}:${a.state}`).sort()).toEqual([
      'GET /a:resolved',
      'GET /c:firing',
    ]);
  });

  it('repeats every repeatInterval while firing, and stops once resolved', async () => {
    const t = setup({ repeatInterval: '1h' });
    t.values.set('GET /a', 900);
    await t.step(0);
    await t.runTo(30 * SECOND, SECOND);
    expect(t.rec.to('log', 'firing')).toHaveLength(1);
    await t.runTo(HOUR + 29 * SECOND, MINUTE);
    expect(t.rec.to('log', 'repeat')).toHaveLength(0);
    await t.runTo(HOUR + 30 * SECOND, SECOND);
    expect(t.rec.to('log', 'repeat')).toHaveLength(1);
    await t.runTo(2 * HOUR + 30 * SECOND, MINUTE);
    expect(t.rec.to('log', 'repeat')).toHaveLength(2);
    t.values.set('GET /a', 1);
    await t.runTo(3 * HOUR + 31 * SECOND, MINUTE);
    expect(t.rec.to('log', 'repeat')).toHaveLength(2);
    const resolved = t.rec.to('log', 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.title).toBe('[RESOLVED:1] HighLatency (GET /a)');
  });

  it('sends nothing for an alert resolved within groupWait', async () => {
    const t = setup();
    t.values.set('GET /a', 900);
    await t.step(0);
    t.values.set('GET /a', 1);
    await t.runTo(10 * MINUTE);
    expect(t.rec.sent).toEqual([]);
  });

  it('groups by the configured labels: one notification per group', async () => {
    const src = latencySource();
    const t = testAlerts({
      sources: [src.source],
      route: { groupBy: ['operation'], groupWait: 0 },
    });
    alerts = t.alerts;
    t.alerts.rule({ name: 'HighLatency', watch: 'operation.p95', condition: { above: 500 } });
    src.values.set('GET /a', 900);
    src.values.set('GET /b', 900);
    await t.step(0);
    expect(t.rec.sent.map((s) => s.notification.group).sort()).toEqual([
      '{operation="GET /a"}',
      '{operation="GET /b"}',
    ]);
  });

  it('delivers through channels by default, counting failures on the alert, the rule and the metrics', async () => {
    const ok = channel('ok');
    const down = channel('down', { fail: true });
    const src = latencySource();
    const t = testAlerts({
      sources: [src.source],
      channels: [ok, down],
      route: { groupWait: 0 },
      deliver: undefined,
    });
    alerts = t.alerts;
    t.alerts.rule({ name: 'HighLatency', watch: 'operation.p95', condition: { above: 500 } });
    src.values.set('GET /a', 900);
    await t.step(0);
    await flush();
    expect(ok.received).toHaveLength(1);
    await t.step(SECOND);
    const [alert] = t.alerts.list();
    expect(alert!.deliveries).toMatchObject({
      ok: { kind: 'firing', outcome: 'success' },
      down: { kind: 'firing', outcome: 'failure', error: 'down is down' },
    });
    expect(t.alerts.rules()[0]!.deliveryFailures).toBe(1);
    expect(t.alerts.channels()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'ok', sent: 1, failed: 0 }),
        expect.objectContaining({ name: 'down', sent: 0, failed: 1, lastError: 'down is down' }),
      ]),
    );
    const families = t.alerts.metricFamilies();
    const notifications = families.find((f) => f.name === 'enterprise_alert_notifications_total')!;
    expect(notifications.samples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          labels: { channel: 'ok', kind: 'firing', outcome: 'success' },
          value: 1,
        }),
        expect.objectContaining({
          labels: { channel: 'down', kind: 'firing', outcome: 'failure' },
          value: 1,
        }),
      ]),
    );
    const gauge = families.find((f) => f.name === 'enterprise_alerts')!;
    expect(gauge.samples).toEqual([
      {
        name: 'enterprise_alerts',
        labels: { alertname: 'HighLatency', severity: 'warning', state: 'firing' },
        value: 1,
      },
    ]);
    expect(
      t.logger.lines.some((l) => l.level === 'warn' && l.message === 'alert notification failed'),
    ).toBe(true);
  });

  it('goes to the logger when no channel is configured', async () => {
    const t = testAlerts({ route: { groupWait: 0 }, deliver: undefined });
    alerts = t.alerts;
    t.alerts.rule({
      name: 'Hot',
      watch: () => 99,
      condition: { above: 1 },
      summary: 'at {{value}}',
    });
    await t.step(0);
    await flush();
    const line = t.logger.lines.find((l) => l.message.startsWith('[FIRING:1] Hot'));
    expect(line).toMatchObject({ level: 'warn', fields: { module: 'alerts', kind: 'firing' } });
  });
});
