// An anomaly rule seeded from a week of history judges the first live reading after start against
// the seasonal baseline; without the history it is still warming up.
import { describe, expect, it } from 'vitest';
import {
  alertHistoryReader,
  DAY,
  engine,
  gaugeSource,
  HOUR,
  MINUTE,
  metricRollup,
  SECOND,
  STORES,
  seededStores,
  startByHand,
  writeMinutes,
} from './helpers.js';

/**
 * A daily cycle of CPU: 20 % in the twelve hours around `start`'s time of day and 80 % in the
 * other twelve, with a little noise. Level within hours of the start, so the hour of the test's
 * reading, its two neighbours and yesterday's hour all share one usual level (the detector judges
 * against the closest of them) whatever the time of day the test runs at.
 */
function cycle(start: number): (at: number) => number {
  return (at) => {
    const noise = ((Math.imul(Math.floor(at / MINUTE), 2_654_435_761) >>> 0) / 2 ** 32 - 0.5) * 3;
    const sinceStart = (((at - start) % DAY) + DAY) % DAY;
    return (sinceStart < DAY / 4 || sinceStart >= (3 * DAY) / 4 ? 20 : 80) + noise;
  };
}

/** Far from the usual level of `at`, well within the range of the whole day. */
function deviating(cpu: (at: number) => number, at: number): number {
  const usual = cpu(at);
  return usual > 50 ? usual - 30 : usual + 30;
}

const rule = { name: 'CpuUnusual', watch: 'system.cpu', condition: { anomaly: {} } } as const;

describe.each(STORES.filter((s) => s.available))(
  'anomaly rule seeded from a $name history',
  (kind) => {
    const open = seededStores(kind);

    it('fires on the first deviating reading after start, and warms up without the history', async () => {
      const { clock, store, start } = open();
      const cpu = cycle(start);
      // A week and an hour of minutes, one in five, as a recorder writes them.
      await writeMinutes(store, start - 7 * DAY - HOUR, start - MINUTE, 5 * MINUTE, (at) => [
        metricRollup('system.cpu.percent', cpu(at + 30 * SECOND)),
      ]);

      const seeded = gaugeSource('system.cpu', 0);
      const withHistory = engine(
        clock,
        alertHistoryReader(() => store),
        {
          sources: [seeded.source],
          rules: [rule],
        },
      );
      const fresh = gaugeSource('system.cpu', 0);
      const withoutHistory = engine(clock, false, { sources: [fresh.source], rules: [rule] });
      try {
        startByHand(withHistory.alerts);
        startByHand(withoutHistory.alerts);
        await withHistory.alerts.seeded();
        await withoutHistory.alerts.seeded();

        clock.advance(15 * SECOND);
        seeded.gauge.value = deviating(cpu, clock.epochNow());
        fresh.gauge.value = seeded.gauge.value;
        await withHistory.alerts.evaluate();
        await withoutHistory.alerts.evaluate();

        const [alert] = withHistory.alerts.list({ state: 'firing' });
        expect(alert?.rule).toBe('CpuUnusual');
        expect(alert?.verdict?.reason).toMatch(/seasonal baseline/);
        // The usual level of this hour, learned from the history.
        expect(alert!.verdict!.expected!).toBeCloseTo(cpu(clock.epochNow()), -1);
        expect(withHistory.logger.lines.filter((l) => l.level === 'warn')).toEqual([]);

        // The same reading, with nothing learned yet: no verdict, nothing fires.
        expect(withoutHistory.alerts.list({ state: 'firing' })).toEqual([]);
        const [learning] = withoutHistory.alerts.list({ state: 'inactive' });
        expect(learning?.verdict).toBeUndefined();
      } finally {
        await withHistory.alerts.close();
        await withoutHistory.alerts.close();
      }
    }, 120_000);

    it('a usual reading after start does not fire', async () => {
      const { clock, store, start } = open();
      const cpu = cycle(start);
      await writeMinutes(store, start - 7 * DAY - HOUR, start - MINUTE, 5 * MINUTE, (at) => [
        metricRollup('system.cpu.percent', cpu(at + 30 * SECOND)),
      ]);
      const { gauge, source } = gaugeSource('system.cpu', 0);
      const { alerts } = engine(
        clock,
        alertHistoryReader(() => store),
        {
          sources: [source],
          rules: [rule],
        },
      );
      try {
        startByHand(alerts);
        await alerts.seeded();
        for (let i = 0; i < 8; i++) {
          clock.advance(15 * SECOND);
          gauge.value = cpu(clock.epochNow());
          await alerts.evaluate();
        }
        const [alert] = alerts.list({ state: 'inactive' });
        // Judged (seeded), and not anomalous.
        expect(alert?.verdict?.breached).toBe(false);
        expect(alerts.list()).toEqual([]);
      } finally {
        await alerts.close();
      }
    }, 120_000);
  },
);
