import { afterEach, describe, expect, it } from 'vitest';
import type { Alerts } from '../../../src/alerts/alerts.js';
import { AlertSilenceError } from '../../../src/alerts/errors.js';
import { channel, gauge, HOUR, MINUTE, SECOND, testAlerts } from './helpers.js';

describe('escalation', () => {
  let alerts: Alerts | undefined;
  afterEach(async () => {
    await alerts?.close();
  });

  /** Critical alerts: slack at once, pager after 10 minutes, manager after an hour; repeats hourly. */
  function setup() {
    const g = gauge(0);
    const h = gauge(0);
    const t = testAlerts({
      channels: [channel('slack'), channel('pager'), channel('manager'), channel('audit')],
      route: { groupWait: '30s', groupInterval: '5m' },
      policies: [
        {
          name: 'oncall',
          matchers: [{ name: 'severity', value: 'critical' }],
          steps: [
            { after: 0, channels: ['slack'] },
            { after: '10m', channels: ['pager'] },
            { after: '1h', channels: ['manager'] },
          ],
          repeat: '30m',
        },
      ],
    });
    alerts = t.alerts;
    t.alerts.rule({
      name: 'DiskFull',
      watch: g.read,
      condition: { above: 90 },
      labels: { severity: 'critical' },
    });
    t.alerts.rule({ name: 'DiskHigh', watch: h.read, condition: { above: 80 } });
    return { ...t, g, h };
  }

  it('notifies step 2 after its delay and not before', async () => {
    const t = setup();
    t.g.value = 95;
    t.h.value = 85;
    await t.step(0);
    await t.runTo(30 * SECOND, SECOND);
    expect(t.rec.to('slack').map((n) => n.title)).toEqual([
      '[FIRING:1] DiskFull (critical)',
      '[FIRING:1] DiskHigh',
    ]);
    expect(t.rec.to('slack')[0]!.step).toBe(0);
    await t.runTo(10 * MINUTE - SECOND, SECOND);
    expect(t.rec.to('pager').map((n) => n.title)).toEqual(['[FIRING:1] DiskHigh']);
    t.rec.clear();
    await t.step(SECOND);
    expect(t.rec.to('pager')).toHaveLength(1);
    expect(t.rec.to('pager')[0]).toMatchObject({ kind: 'firing', step: 1 });
    expect(t.rec.to('pager')[0]!.title).toBe('[FIRING:1] DiskFull (critical)');
    expect(t.rec.to('manager')).toHaveLength(0);
    await t.runTo(HOUR - SECOND, 10 * SECOND);
    expect(t.rec.to('manager')).toHaveLength(0);
    await t.runTo(HOUR + SECOND, SECOND);
    expect(t.rec.to('manager')).toHaveLength(1);
    expect(t.rec.to('audit')).toHaveLength(0);
  });

  it('repeats each notified step every `repeat` until acknowledged, then stops escalating', async () => {
    const t = setup();
    t.g.value = 95;
    await t.step(0);
    await t.runTo(30 * MINUTE + 30 * SECOND, 10 * SECOND);
    expect(t.rec.to('slack', 'repeat')).toHaveLength(1);
    expect(t.rec.to('pager', 'repeat')).toHaveLength(0);
    await t.runTo(40 * MINUTE, 10 * SECOND);
    expect(t.rec.to('pager', 'repeat')).toHaveLength(1);

    const disk = t.alerts.list({ labels: { alertname: 'DiskFull' } })[0]!;
    const acknowledged: string[] = [];
    t.alerts.on('acknowledged', (a) => acknowledged.push(a.acknowledged!.by));
    const ack = await t.alerts.acknowledge(disk.fingerprint, { by: 'carol', comment: 'on it' });
    expect(ack.acknowledged).toMatchObject({ by: 'carol', comment: 'on it' });
    expect(acknowledged).toEqual(['carol']);
    expect(t.alerts.get(disk.fingerprint)!.acknowledged?.by).toBe('carol');
    // The channels that were told it fired are told it is acknowledged.
    expect(t.rec.to(undefined, 'acknowledged').length).toBe(2);
    expect(
      new Set(
        t.rec.sent.filter((s) => s.notification.kind === 'acknowledged').map((s) => s.channel),
      ),
    ).toEqual(new Set(['slack', 'pager']));

    const before = t.rec.sent.length;
    await t.runTo(3 * HOUR, MINUTE);
    expect(
      t.rec.sent
        .slice(before)
        .filter((s) => s.notification.alerts.some((a) => a.rule === 'DiskFull')),
    ).toEqual([]);
    expect(t.rec.to('manager')).toHaveLength(0);
    expect(t.alerts.get(disk.fingerprint)!.acknowledged).toBeDefined();

    // Resolution clears the acknowledgement: the next episode escalates again.
    t.g.value = 10;
    await t.runTo(3 * HOUR + 10 * MINUTE, MINUTE);
    expect(t.alerts.get(disk.fingerprint)).toMatchObject({ state: 'resolved' });
    expect(t.alerts.get(disk.fingerprint)!.acknowledged).toBeUndefined();
    t.g.value = 95;
    const again = t.rec.to('slack', 'firing').length;
    await t.runTo(3 * HOUR + 11 * MINUTE, SECOND);
    expect(t.rec.to('slack', 'firing')).toHaveLength(again + 1);
  });

  it('sends the resolved notice to every channel that was notified, and only those', async () => {
    const t = setup();
    t.g.value = 95;
    await t.step(0);
    await t.runTo(11 * MINUTE, 10 * SECOND);
    expect(t.rec.to('pager')).toHaveLength(1);
    t.g.value = 10;
    await t.runTo(20 * MINUTE, 10 * SECOND);
    const resolved = t.rec.sent.filter(
      (s) => s.notification.kind === 'resolved' && s.notification.title.includes('DiskFull'),
    );
    expect(resolved.map((s) => s.channel).sort()).toEqual(['pager', 'slack']);
    expect(resolved[0]!.notification.alerts[0]!.state).toBe('resolved');
    expect(t.rec.to('manager')).toHaveLength(0);
    // A new firing episode starts again from step 0.
    const slackBefore = t.rec.to('slack').length;
    t.g.value = 95;
    await t.runTo(21 * MINUTE, 10 * SECOND);
    expect(t.rec.to('slack')).toHaveLength(slackBefore + 1);
  });

  it('refuses to acknowledge an unknown or inactive alert, with a typed error', async () => {
    const t = setup();
    await t.step(0);
    const unknown = await t.alerts.acknowledge('0123456789abcdef', { by: 'x' }).catch((e) => e);
    expect(unknown).toBeInstanceOf(AlertSilenceError);
    expect(unknown.context).toMatchObject({ field: 'fingerprint', value: '0123456789abcdef' });
    const inactive = t.alerts.list({ state: 'inactive' })[0]!;
    await expect(t.alerts.acknowledge(inactive.fingerprint, { by: 'x' })).rejects.toThrow(
      /inactive/,
    );
    t.g.value = 95;
    await t.step(SECOND);
    const firing = t.alerts.list()[0]!;
    await expect(t.alerts.acknowledge(firing.fingerprint, { by: '' })).rejects.toMatchObject({
      context: { field: 'by' },
    });
  });
});
