import { afterEach, describe, expect, it } from 'vitest';
import type { Alerts } from '../../../src/alerts/alerts.js';
import type { SeriesValue } from '../../../src/alerts/types.js';
import { MINUTE, SECOND, testAlerts } from './helpers.js';

describe('series of a source', () => {
  let alerts: Alerts | undefined;
  afterEach(async () => {
    await alerts?.close();
    alerts = undefined;
  });

  it('tells series apart by their labels, whatever the order a source lists them or their labels in', async () => {
    let read = 0;
    const rows: SeriesValue[][] = [
      [
        { labels: { host: 'a', zone: 'x' }, value: 10 },
        { labels: { host: 'b', zone: 'x' }, value: 1 },
        { labels: { ho: 'sta', zone: 'x' }, value: 1 },
      ],
      [
        { labels: { zone: 'x', host: 'b' }, value: 2 },
        { labels: { ho: 'sta', zone: 'x' }, value: 1 },
        { labels: { host: 'a', zone: 'x' }, value: 11 },
      ],
      [
        { labels: { ho: 'sta', zone: 'x' }, value: 12 },
        { labels: { host: 'a', zone: 'x' }, value: 13 },
        { labels: { host: 'b', zone: 'x' }, value: 3 },
      ],
    ];
    const t = testAlerts({
      sources: [{ name: 'hosts', read: () => rows[Math.min(read++, rows.length - 1)]! }],
    });
    alerts = t.alerts;
    alerts.rule({ name: 'Busy', watch: 'hosts', condition: { above: 5 }, for: '2s' });
    const states = () =>
      Object.fromEntries(
        alerts!
          .list({ state: ['inactive', 'pending', 'firing'] })
          .map((a) => [`${a.labels.host ?? `ho=${a.labels.ho}`}`, `${a.state} ${a.value}`]),
      );
    await t.step(0);
    expect(states()).toEqual({ a: 'pending 10', b: 'inactive 1', 'ho=sta': 'inactive 1' });
    await t.step(SECOND);
    expect(states()).toEqual({ a: 'pending 11', b: 'inactive 2', 'ho=sta': 'inactive 1' });
    await t.step(SECOND);
    expect(states()).toEqual({ a: 'firing 13', b: 'inactive 3', 'ho=sta': 'pending 12' });
    expect(alerts.list({ state: ['inactive', 'pending', 'firing'] })).toHaveLength(3);
  });

  it('starts a series afresh when it comes back after it was dropped', async () => {
    let rows: SeriesValue[] = [
      { labels: { host: 'a' }, value: 10 },
      { labels: { host: 'b' }, value: 1 },
    ];
    const t = testAlerts({ sources: [{ name: 'hosts', read: () => rows }] });
    alerts = t.alerts;
    alerts.rule({ name: 'Busy', watch: 'hosts', condition: { above: 5 }, for: '1m' });
    await t.step(0);
    const pendingSince = alerts.list()[0]!.activeAt;
    rows = [{ labels: { host: 'b' }, value: 1 }];
    await t.step(SECOND);
    await t.step(SECOND);
    expect(alerts.list({ state: ['inactive', 'pending'] }).map((a) => a.labels.host)).toEqual([
      'b',
    ]);
    rows = [
      { labels: { host: 'b' }, value: 1 },
      { labels: { host: 'a' }, value: 10 },
    ];
    await t.step(MINUTE);
    const back = alerts.list()[0]!;
    expect(back).toMatchObject({ state: 'pending', labels: { host: 'a' } });
    expect(back.activeAt).not.toBe(pendingSince);
  });

  it('puts only the rule whose source gave a list it cannot read in error', async () => {
    const t = testAlerts({
      sources: [
        // An entry missing from the list.
        {
          name: 'holes',
          read: () => [{ labels: { host: 'a' }, value: 1 }, undefined] as unknown as SeriesValue[],
        },
        { name: 'hosts', read: () => [{ labels: { host: 'b' }, value: 10 }] },
      ],
    });
    alerts = t.alerts;
    alerts.rule({ name: 'Holes', watch: 'holes', condition: { above: 5 } });
    alerts.rule({ name: 'Busy', watch: 'hosts', condition: { above: 5 } });
    await t.step(0);
    const states = alerts.list({ state: ['error', 'firing'] }).map((a) => [a.rule, a.state]);
    expect(states).toEqual([
      ['Busy', 'firing'],
      ['Holes', 'error'],
    ]);
    expect(alerts.rules().find((r) => r.name === 'Holes')!.lastError).toBeDefined();
  });

  it('reads values from sources answering at once and later alike, once each per tick', async () => {
    const reads = { now: 0, later: 0 };
    const t = testAlerts({
      sources: [
        {
          name: 'now',
          read: () => {
            reads.now++;
            return [{ labels: { host: 'a' }, value: 10 }];
          },
        },
        {
          name: 'later',
          read: async () => {
            reads.later++;
            await new Promise((resolve) => setTimeout(resolve, 5));
            return [{ labels: { host: 'b' }, value: 10 }];
          },
        },
      ],
    });
    alerts = t.alerts;
    for (const [i, watch] of ['now', 'later', 'now', 'later'].entries()) {
      alerts.rule({ name: `Busy${i}`, watch, condition: { above: 5 } });
    }
    await t.step(0);
    await t.step(SECOND);
    expect(reads).toEqual({ now: 2, later: 2 });
    expect(alerts.list().map((a) => a.state)).toEqual(['firing', 'firing', 'firing', 'firing']);
  });
});
