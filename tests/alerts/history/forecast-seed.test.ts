// Forecast and trend rules seeded from the history's last half hour predict right after start.
import { describe, expect, it } from 'vitest';
import type { AlertRuleDefinition } from '../../../src/alerts/types.js';
import {
  alertHistoryReader,
  engine,
  gaugeSource,
  MINUTE,
  metricRollup,
  SECOND,
  STORES,
  seededStores,
  startByHand,
  writeMinutes,
} from './helpers.js';

const MIB = 1_048_576;
/** Heap grows one MiB a minute. */
const SLOPE = MIB;

describe.each(STORES.filter((s) => s.available))(
  'forecast and trend seeded from a $name history',
  (kind) => {
    const open = seededStores(kind);

    it('predicts the crossing on the first reading after start', async () => {
      const { clock, store, start } = open();
      const heap = (at: number) => 200 * MIB + (SLOPE * (at - start)) / MINUTE;
      // Each minute's mean is the level at its middle.
      await writeMinutes(store, start - 40 * MINUTE, start - MINUTE, MINUTE, (at) => [
        metricRollup('system.memory.heap_used', heap(at + 30 * SECOND)),
      ]);
      const limit = heap(start) + 20 * SLOPE;
      const rules: AlertRuleDefinition[] = [
        {
          name: 'HeapFull',
          watch: 'system.heap_used_bytes',
          condition: { forecast: { threshold: limit, within: '30m' } },
        },
        {
          name: 'HeapClimbing',
          watch: 'system.heap_used_bytes',
          condition: { trend: { slopeAbove: SLOPE / 2 } },
        },
      ];
      const seeded = gaugeSource('system.heap_used_bytes', 0);
      const withHistory = engine(
        clock,
        alertHistoryReader(() => store),
        {
          sources: [seeded.source],
          rules,
        },
      );
      const fresh = gaugeSource('system.heap_used_bytes', 0);
      const withoutHistory = engine(clock, false, { sources: [fresh.source], rules });
      try {
        startByHand(withHistory.alerts);
        await withHistory.alerts.seeded();
        clock.advance(15 * SECOND);
        seeded.gauge.value = heap(clock.epochNow());
        fresh.gauge.value = seeded.gauge.value;
        await withHistory.alerts.evaluate();
        await withoutHistory.alerts.evaluate();

        const firing = withHistory.alerts.list({ state: 'firing' });
        expect(firing.map((a) => a.rule).sort()).toEqual(['HeapClimbing', 'HeapFull']);
        const full = firing.find((a) => a.rule === 'HeapFull')!;
        // 20 minutes after start, seen 15 s after it.
        const expectedMs = 20 * MINUTE - 15 * SECOND;
        expect(Math.abs(full.verdict!.score! - expectedMs)).toBeLessThan(MINUTE);
        const climbing = firing.find((a) => a.rule === 'HeapClimbing')!;
        expect(climbing.verdict!.score! / SLOPE).toBeCloseTo(1, 2);

        // Without the history, one reading is no line.
        expect(withoutHistory.alerts.list({ state: 'firing' })).toEqual([]);
        for (const alert of withoutHistory.alerts.list({ state: 'inactive' })) {
          expect(alert.verdict).toBeUndefined();
        }
      } finally {
        await withHistory.alerts.close();
        await withoutHistory.alerts.close();
      }
    }, 60_000);
  },
);
