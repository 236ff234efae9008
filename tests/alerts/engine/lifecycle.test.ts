import { afterEach, describe, expect, it } from 'vitest';
import type { Alerts } from '../../../src/alerts/alerts.js';
import { advance, INACTIVE, type SeriesState } from '../../../src/alerts/lifecycle.js';
import type { AlertTransition } from '../../../src/alerts/types.js';
import { gauge, MINUTE, SECOND, testAlerts } from './helpers.js';

describe('lifecycle (pure)', () => {
  const timing = { forMs: 60_000, keepFiringForMs: 0 };

  it('goes inactive → pending → firing → resolved → pending', () => {
    let s: SeriesState = INACTIVE;
    s = advance(s, { kind: 'breach' }, timing, 0);
    expect(s).toMatchObject({ state: 'pending', activeAt: 0 });
    s = advance(s, { kind: 'breach' }, timing, 59_999);
    expect(s.state).toBe('pending');
    s = advance(s, { kind: 'breach' }, timing, 60_000);
    expect(s).toMatchObject({ state: 'firing', activeAt: 0, firingAt: 60_000 });
    s = advance(s, { kind: 'clear' }, timing, 70_000);
    expect(s).toMatchObject({ state: 'resolved', resolvedAt: 70_000, firingAt: 60_000 });
    s = advance(s, { kind: 'breach' }, timing, 80_000);
    expect(s).toEqual({ state: 'pending', activeAt: 80_000, lastBreachAt: 80_000 });
  });

  it('lists a resolved alert for 15 minutes, then makes it inactive again', () => {
    let s = advance(INACTIVE, { kind: 'breach' }, { forMs: 0, keepFiringForMs: 0 }, 0);
    s = advance(s, { kind: 'clear' }, timing, 1_000);
    expect(advance(s, { kind: 'clear' }, timing, 1_000 + 15 * 60_000 - 1).state).toBe('resolved');
    expect(advance(s, { kind: 'clear' }, timing, 1_000 + 15 * 60_000)).toBe(INACTIVE);
  });

  it('drops back to inactive when the condition stops holding while pending', () => {
    let s = advance(INACTIVE, { kind: 'breach' }, timing, 0);
    s = advance(s, { kind: 'clear' }, timing, 30_000);
    expect(s).toBe(INACTIVE);
  });

  it('fires at once when `for` is 0', () => {
    expect(
      advance(INACTIVE, { kind: 'breach' }, { forMs: 0, keepFiringForMs: 0 }, 5),
    ).toMatchObject({
      state: 'firing',
      firingAt: 5,
    });
  });

  it('keeps firing for keepFiringFor after the last breach', () => {
    const t = { forMs: 0, keepFiringForMs: 30_000 };
    let s = advance(INACTIVE, { kind: 'breach' }, t, 0);
    s = advance(s, { kind: 'breach' }, t, 10_000);
    s = advance(s, { kind: 'clear' }, t, 20_000);
    expect(s.state).toBe('firing');
    s = advance(s, { kind: 'clear' }, t, 39_999);
    expect(s.state).toBe('firing');
    s = advance(s, { kind: 'clear' }, t, 40_000);
    expect(s).toMatchObject({ state: 'resolved', resolvedAt: 40_000 });
  });

  it('keeps a firing episode through nodata and error, and restarts a pending one', () => {
    const t = { forMs: 10_000, keepFiringForMs: 0 };
    let s = advance(INACTIVE, { kind: 'breach' }, t, 0);
    s = advance(s, { kind: 'error', message: 'boom' }, t, 5_000);
    expect(s).toEqual({ state: 'error', error: 'boom' });
    s = advance(s, { kind: 'breach' }, t, 6_000);
    expect(s).toMatchObject({ state: 'pending', activeAt: 6_000 });
    s = advance(s, { kind: 'breach' }, t, 16_000);
    expect(s.state).toBe('firing');
    s = advance(s, { kind: 'nodata' }, t, 17_000);
    expect(s).toMatchObject({ state: 'nodata', firingAt: 16_000 });
    s = advance(s, { kind: 'breach' }, t, 18_000);
    expect(s).toMatchObject({ state: 'firing', firingAt: 16_000 });
  });

  it('returns the same object when nothing changed', () => {
    const s = advance(INACTIVE, { kind: 'nodata' }, timing, 0);
    expect(advance(s, { kind: 'nodata' }, timing, 1)).toBe(s);
    expect(advance(INACTIVE, { kind: 'clear' }, timing, 1)).toBe(INACTIVE);
  });
});

describe('alert states through the engine', () => {
  let alerts: Alerts | undefined;
  afterEach(async () => {
    await alerts?.close();
  });

  it('pends for `for`, fires, then resolves, emitting each transition', async () => {
    const t = testAlerts();
    alerts = t.alerts;
    const g = gauge(10);
    const transitions: AlertTransition[] = [];
    const firing: string[] = [];
    const resolved: string[] = [];
    alerts.on('transition', (tr) => transitions.push(tr));
    alerts.on('firing', (a) => firing.push(a.fingerprint));
    alerts.on('resolved', (a) => resolved.push(a.fingerprint));
    alerts.rule({
      name: 'Hot',
      watch: g.read,
      condition: { above: 50 },
      for: '2m',
      summary: 'temp {{value}}',
    });

    await t.step(0);
    expect(alerts.list()).toEqual([]);
    expect(alerts.list({ state: 'inactive' })).toHaveLength(1);

    g.value = 80;
    await t.step(SECOND);
    const [pending] = alerts.list();
    expect(pending).toMatchObject({
      rule: 'Hot',
      state: 'pending',
      value: 80,
      labels: { alertname: 'Hot' },
    });
    expect(pending!.annotations.summary).toBe('temp 80');
    expect(pending!.activeAt).toBe(new Date(t.clock.epochNow()).toISOString());

    await t.step(2 * MINUTE - SECOND);
    expect(alerts.list()[0]!.state).toBe('pending'); // held 119 s of 120
    await t.step(SECOND);
    const fired = alerts.list()[0]!;
    expect(fired.state).toBe('firing');
    expect(firing).toEqual([fired.fingerprint]);

    g.value = 20;
    await t.step(SECOND);
    expect(alerts.get(fired.fingerprint)).toMatchObject({ state: 'resolved', value: 20 });
    expect(resolved).toEqual([fired.fingerprint]);
    expect(transitions.map((tr) => `${tr.from}>${tr.to}`)).toEqual([
      'inactive>pending',
      'pending>firing',
      'firing>resolved',
    ]);
    expect((await alerts.history(10)).map((tr) => tr.to)).toEqual([
      'resolved',
      'firing',
      'pending',
    ]);

    // Listed as resolved for 15 minutes, then quietly inactive (no transition recorded).
    await t.step(15 * MINUTE);
    expect(alerts.list()).toEqual([]);
    expect(alerts.get(fired.fingerprint)!.state).toBe('inactive');
    expect(transitions).toHaveLength(3);

    g.value = 90;
    await t.step(SECOND);
    expect(alerts.get(fired.fingerprint)!.state).toBe('pending');
  });

  it('keeps firing for keepFiringFor once the condition stops holding', async () => {
    const t = testAlerts();
    alerts = t.alerts;
    const g = gauge(100);
    alerts.rule({ name: 'Flappy', watch: g.read, condition: { above: 50 }, keepFiringFor: '1m' });
    await t.step(0);
    expect(alerts.list()[0]!.state).toBe('firing');
    g.value = 0;
    await t.step(30 * SECOND);
    expect(alerts.list()[0]!.state).toBe('firing');
    await t.step(29 * SECOND);
    expect(alerts.list()[0]!.state).toBe('firing');
    await t.step(SECOND);
    expect(alerts.list()[0]!.state).toBe('resolved');
  });

  it('shows nodata when the watch gives nothing, and honours noData: ok / alerting', async () => {
    const t = testAlerts();
    alerts = t.alerts;
    const g = gauge(null);
    alerts.rule({ name: 'Quiet', watch: g.read, condition: { above: 1 } });
    alerts.rule({ name: 'QuietOk', watch: g.read, condition: { above: 1 }, noData: 'ok' });
    alerts.rule({
      name: 'QuietAlerting',
      watch: g.read,
      condition: { above: 1 },
      noData: 'alerting',
    });
    await t.step(0);
    const byRule = Object.fromEntries(
      alerts.list({ state: ['nodata', 'firing', 'inactive'] }).map((a) => [a.rule, a]),
    );
    expect(byRule.Quiet).toMatchObject({ state: 'nodata', value: null });
    expect(byRule.QuietOk!.state).toBe('inactive');
    expect(byRule.QuietAlerting!.state).toBe('firing');
    g.value = 0;
    await t.step(SECOND);
    expect(alerts.list().map((a) => `${a.rule}:${a.state}`)).toEqual(['QuietAlerting:resolved']);
  });

  it('puts a rule whose watch function throws in error, with the message, and recovers', async () => {
    const t = testAlerts();
    alerts = t.alerts;
    const g = gauge();
    g.value = () => {
      throw new Error('metrics backend unreachable');
    };
    alerts.rule({ name: 'Broken', watch: g.read, condition: { above: 1 }, summary: '{{reason}}' });
    await t.step(0);
    const [alert] = alerts.list();
    expect(alert).toMatchObject({
      state: 'error',
      error: 'metrics backend unreachable',
      value: null,
    });
    expect(alert!.annotations.summary).toBe('metrics backend unreachable');
    expect(alerts.rules()[0]).toMatchObject({
      lastError: 'metrics backend unreachable',
      states: { error: 1 },
    });
    expect(t.logger.lines.some((l) => l.level === 'warn' && l.fields.rule === 'Broken')).toBe(true);
    g.value = 5;
    await t.step(SECOND);
    expect(alerts.list()[0]).toMatchObject({ state: 'firing', value: 5 });
    expect(alerts.list()[0]!.error).toBeUndefined();
    expect(alerts.rules()[0]!.lastError).toBeUndefined();
  });

  it('times out a slow source and shows the timeout as an error', async () => {
    const t = testAlerts({ sourceTimeout: '50ms' });
    alerts = t.alerts;
    alerts.source({ name: 'slow', read: () => new Promise(() => undefined) });
    alerts.rule({ name: 'Slow', watch: 'slow', condition: { above: 1 } });
    const started = Date.now();
    await t.step(0);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(alerts.list()[0]).toMatchObject({ state: 'error' });
    expect(alerts.list()[0]!.error).toMatch(/did not answer within 50 ms/);
  });
});
