import { afterEach, describe, expect, it } from 'vitest';
import type { Alerts } from '../../../src/alerts/alerts.js';
import { AlertSilenceError } from '../../../src/alerts/errors.js';
import { compileInhibitions, inhibitedBy } from '../../../src/alerts/inhibit.js';
import type { SeriesValue } from '../../../src/alerts/types.js';
import { EPOCH, HOUR, MINUTE, SECOND, testAlerts } from './helpers.js';

/** Services with a value each; rules `ServiceDown` (value 0) and `HighLatency` (above 500). */
function services(options = {}) {
  const up = new Map<string, number>();
  const latency = new Map<string, number>();
  const t = testAlerts({
    sources: [
      {
        name: 'up',
        read: (): SeriesValue[] =>
          [...up].map(([service, value]) => ({ labels: { service }, value })),
      },
      {
        name: 'latency',
        read: (): SeriesValue[] =>
          [...latency].map(([service, value]) => ({ labels: { service }, value })),
      },
    ],
    route: { groupWait: 0, groupBy: ['alertname', 'service'] },
    ...options,
  });
  t.alerts.rule({
    name: 'ServiceDown',
    watch: 'up',
    condition: { below: 1 },
    severity: 'critical',
  });
  t.alerts.rule({ name: 'HighLatency', watch: 'latency', condition: { above: 500 } });
  return { ...t, up, latency };
}

describe('inhibition', () => {
  let alerts: Alerts | undefined;
  afterEach(async () => {
    await alerts?.close();
  });

  it('mutes matching targets with equal labels while the source fires; they stay listed', async () => {
    const t = services({
      inhibitions: [
        {
          sourceMatchers: [{ name: 'alertname', value: 'ServiceDown' }],
          targetMatchers: [{ name: 'alertname', value: 'HighLatency' }],
          equal: ['service'],
        },
      ],
    });
    alerts = t.alerts;
    t.up.set('api', 0);
    t.latency.set('api', 900);
    t.latency.set('web', 900);
    await t.step(0);
    const down = t.alerts.list({ labels: { alertname: 'ServiceDown' } })[0]!;
    const apiLatency = t.alerts.list({ labels: { alertname: 'HighLatency', service: 'api' } })[0]!;
    const webLatency = t.alerts.list({ labels: { alertname: 'HighLatency', service: 'web' } })[0]!;
    expect(apiLatency).toMatchObject({ state: 'firing', inhibitedBy: [down.fingerprint] });
    expect(webLatency.inhibitedBy).toBeUndefined();
    expect(t.rec.sent.map((s) => s.notification.title).sort()).toEqual([
      '[FIRING:1] HighLatency',
      '[FIRING:1] ServiceDown',
    ]);
    expect(
      t.rec.sent.find((s) => s.notification.title.includes('HighLatency'))!.notification.alerts[0]!
        .labels.service,
    ).toBe('web');

    // The source resolves: the target is notified from then on.
    t.up.set('api', 1);
    await t.step(SECOND);
    expect(t.alerts.get(apiLatency.fingerprint)!.inhibitedBy).toBeUndefined();
    expect(
      t.rec.sent.filter((s) =>
        s.notification.alerts.some((a) => a.fingerprint === apiLatency.fingerprint),
      ),
    ).toHaveLength(1);
  });
});

describe('inhibition rules (pure)', () => {
  it('never lets an alert inhibit itself, nor two alerts matching both sides inhibit each other', () => {
    const rules = compileInhibitions([
      {
        sourceMatchers: [{ name: 'severity', value: 'critical' }],
        targetMatchers: [{ name: 'severity', op: '=~', value: 'critical|warning' }],
        equal: ['cluster'],
      },
    ]);
    const alert = (fingerprint: string, severity: string, cluster: string, firing = true) => ({
      fingerprint,
      labels: { severity, cluster },
      firing,
    });
    const result = inhibitedBy(
      [
        alert('c1', 'critical', 'eu'),
        alert('c2', 'critical', 'eu'),
        alert('w1', 'warning', 'eu'),
        alert('w2', 'warning', 'us'),
        alert('c3', 'critical', 'us', false),
      ],
      rules,
    );
    expect(Object.fromEntries(result)).toEqual({ w1: ['c1', 'c2'] });
  });

  it('treats a label missing on both sides as equal', () => {
    const rules = compileInhibitions([
      {
        sourceMatchers: [{ name: 'a', value: 'src' }],
        targetMatchers: [{ name: 'a', value: 'dst' }],
        equal: ['zone'],
      },
    ]);
    const result = inhibitedBy(
      [
        { fingerprint: 's', labels: { a: 'src' }, firing: true },
        { fingerprint: 't', labels: { a: 'dst' }, firing: true },
        { fingerprint: 'u', labels: { a: 'dst', zone: 'z1' }, firing: true },
      ],
      rules,
    );
    expect(Object.fromEntries(result)).toEqual({ t: ['s'] });
  });
});

describe('silences', () => {
  let alerts: Alerts | undefined;
  afterEach(async () => {
    await alerts?.close();
  });

  it('mutes matching alerts until the silence ends, then notifies them', async () => {
    const t = services();
    alerts = t.alerts;
    const silence = await t.alerts.silence({
      matchers: [{ name: 'service', value: 'api' }],
      duration: '1h',
      createdBy: 'alice',
      comment: 'deploying',
    });
    expect(silence).toMatchObject({
      startsAt: new Date(EPOCH).toISOString(),
      endsAt: new Date(EPOCH + HOUR).toISOString(),
      createdBy: 'alice',
      comment: 'deploying',
    });
    t.latency.set('api', 900);
    t.latency.set('web', 900);
    await t.step(0);
    const api = t.alerts.list({ labels: { service: 'api' } })[0]!;
    expect(api).toMatchObject({ state: 'firing', silencedBy: [silence.id] });
    expect(t.rec.sent.map((s) => s.notification.alerts[0]!.labels.service)).toEqual(['web']);
    expect((await t.alerts.silences())[0]).toMatchObject({ id: silence.id, status: 'active' });

    await t.runTo(HOUR - SECOND, 5 * MINUTE);
    expect(
      t.rec.sent.filter((s) => s.notification.alerts[0]!.labels.service === 'api'),
    ).toHaveLength(0);
    await t.runTo(HOUR, SECOND);
    expect(t.alerts.get(api.fingerprint)!.silencedBy).toBeUndefined();
    expect(
      t.rec.sent.filter((s) => s.notification.alerts[0]!.labels.service === 'api'),
    ).toHaveLength(1);
    expect((await t.alerts.silences())[0]!.status).toBe('expired');
  });

  it('matches anchored regular expressions and negations', async () => {
    const t = services();
    alerts = t.alerts;
    for (const service of ['api', 'api-internal', 'rapid', 'web']) t.latency.set(service, 900);
    await t.alerts.silence({
      matchers: [
        { name: 'service', op: '=~', value: 'api|web' },
        { name: 'alertname', op: '!=', value: 'ServiceDown' },
      ],
      duration: '1h',
      createdBy: 'bob',
    });
    await t.step(0);
    const silenced = t.alerts
      .list()
      .filter((a) => a.silencedBy !== undefined)
      .map((a) => a.labels.service)
      .sort();
    expect(silenced).toEqual(['api', 'web']);
    await t.alerts.silence({
      matchers: [{ name: 'service', op: '!~', value: 'api.*' }],
      duration: '1h',
      createdBy: 'bob',
    });
    // ServiceDown has no data (its source is empty) and no service label: `!~` matches it too.
    expect(t.alerts.list({ labels: { alertname: 'ServiceDown' } })[0]).toMatchObject({
      state: 'nodata',
    });
    expect(t.alerts.list({ labels: { alertname: 'ServiceDown' } })[0]!.silencedBy).toHaveLength(1);
    expect(
      t.alerts
        .list({ labels: { alertname: 'HighLatency' } })
        .filter((a) => a.silencedBy !== undefined)
        .map((a) => a.labels.service)
        .sort(),
    ).toEqual(['api', 'rapid', 'web']);
  });

  it('expires a silence on demand; a pending one is deleted', async () => {
    const t = services();
    alerts = t.alerts;
    t.latency.set('api', 900);
    const active = await t.alerts.silence({
      matchers: [{ name: 'service', value: 'api' }],
      duration: '1h',
      createdBy: 'a',
    });
    const later = await t.alerts.silence({
      matchers: [{ name: 'service', value: 'api' }],
      startsAt: EPOCH + HOUR,
      endsAt: new Date(EPOCH + 2 * HOUR),
      createdBy: 'a',
    });
    await t.step(0);
    expect(t.rec.sent).toHaveLength(0);
    expect(await t.alerts.expireSilence(active.id)).toBe(true);
    expect(await t.alerts.expireSilence(active.id)).toBe(false);
    expect(await t.alerts.expireSilence(later.id)).toBe(true);
    expect(await t.alerts.expireSilence('nope')).toBe(false);
    expect(t.alerts.list()[0]!.silencedBy).toBeUndefined();
    expect((await t.alerts.silences()).map((s) => [s.id, s.status])).toEqual([
      [active.id, 'expired'],
    ]);
    await t.step(SECOND);
    expect(t.rec.sent).toHaveLength(1);
  });

  it('refuses invalid silences with the field named', async () => {
    const t = services();
    alerts = t.alerts;
    const fieldOf = async (input: Record<string, unknown>) => {
      const error = await t.alerts
        .silence({ createdBy: 'x', duration: '1h', ...input } as never)
        .catch((e) => e);
      expect(error).toBeInstanceOf(AlertSilenceError);
      return (error as AlertSilenceError).context.field;
    };
    expect(await fieldOf({ matchers: [] })).toBe('matchers');
    expect(await fieldOf({ matchers: [{ name: 'a', op: '=~', value: '([' }] })).toBe(
      'matchers[0].value',
    );
    expect(await fieldOf({ matchers: [{ name: 'a', op: '~', value: 'x' }] })).toBe(
      'matchers[0].op',
    );
    expect(
      await fieldOf({
        matchers: [{ name: 'a', value: 'x' }],
        duration: undefined,
        endsAt: EPOCH - 1,
      }),
    ).toBe('endsAt');
    expect(
      await fieldOf({
        matchers: [{ name: 'a', value: 'x' }],
        duration: undefined,
        startsAt: EPOCH + HOUR,
        endsAt: EPOCH + MINUTE,
      }),
    ).toBe('endsAt');
    expect(await fieldOf({ matchers: [{ name: 'a', value: 'x' }], duration: undefined })).toBe(
      'endsAt',
    );
    expect(await fieldOf({ matchers: [{ name: 'a', value: 'x' }], duration: 'forever' })).toBe(
      'duration',
    );
    expect(await fieldOf({ matchers: [{ name: 'a', value: 'x' }], createdBy: ' ' })).toBe(
      'createdBy',
    );
    expect(await t.alerts.silences()).toEqual([]);
  });
});
