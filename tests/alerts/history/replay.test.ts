// How the replay meets live readings and failures: readings that arrive while the history is read
// are kept and applied after it, each once; a history that is down or never answers leaves the
// rules learning live, with one warning; a rule added at run time is seeded too.
import { describe, expect, it } from 'vitest';
import type { Alerts } from '../../../src/alerts/alerts.js';
import type { AlertHistoryReader } from '../../../src/alerts/history-reader.js';
import type { AlertRuleDefinition } from '../../../src/alerts/types.js';
import { MemoryHistoryStore } from '../../../src/analytics/history/memory-store.js';
import { RedisHistoryStore } from '../../../src/analytics/history/redis-store.js';
import { redis, requires } from '../../support/requirements.js';
import {
  alertHistoryReader,
  engine,
  gaugeSource,
  MINUTE,
  metricRollup,
  SECOND,
  seedClock,
  startByHand,
  writeMinutes,
} from './helpers.js';

const MIN_SAMPLES = 30;
const learning: AlertRuleDefinition = {
  name: 'CpuUnusual',
  watch: 'system.cpu',
  condition: { anomaly: { seasonal: false, minSamples: MIN_SAMPLES } },
};

/** The rule's one alert, whatever its state. */
function only(alerts: Alerts) {
  const all = alerts.list({ state: ['inactive', 'pending', 'firing', 'nodata', 'error'] });
  expect(all).toHaveLength(1);
  return all[0]!;
}

/** A reader that answers once `release()` is called. */
function gated(reader: AlertHistoryReader, widen = 0) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let asked = 0;
  const slow: AlertHistoryReader = {
    async read(request) {
      asked++;
      await gate;
      // Sees `widen` ms past the start as well: minutes another instance wrote meanwhile.
      return reader.read({ ...request, to: request.to + widen });
    },
  };
  return { reader: slow, release, asked: () => asked };
}

describe('replaying history into the rules', () => {
  it('keeps the readings taken during a slow replay and counts each reading once', async () => {
    const clock = seedClock(10);
    const store = new MemoryHistoryStore({ clock });
    const start = clock.epochNow();
    const value = (at: number) => 50 + ((Math.floor(at / SECOND) * 7) % 5) / 10;
    // 26 minutes before the start, and two more another instance wrote after it (those overlap
    // the live readings and must be left out).
    await writeMinutes(
      store,
      clock.minute - 26 * MINUTE,
      clock.minute + 2 * MINUTE,
      MINUTE,
      (at) => [metricRollup('system.cpu.percent', value(at))],
    );
    const slow = gated(
      alertHistoryReader(() => store),
      2 * MINUTE,
    );
    const { gauge, source } = gaugeSource('system.cpu', 50);
    const { alerts } = engine(clock, slow.reader, { sources: [source], rules: [learning] });
    try {
      startByHand(alerts);
      // Three readings while the history is being read: kept, and no verdict yet.
      for (let i = 0; i < 3; i++) {
        if (i > 0) clock.advance(15 * SECOND);
        gauge.value = value(clock.epochNow());
        await alerts.evaluate();
        expect(only(alerts).verdict).toBeUndefined();
      }
      expect(slow.asked()).toBe(1);
      slow.release();
      await alerts.seeded();
      expect(clock.epochNow() - start).toBe(30 * SECOND);

      // 26 past readings and the 3 live ones: 29. The detector judges past MIN_SAMPLES = 30, so
      // the next reading (30) has no verdict and the one after (31) has: one reading lost, or
      // one counted twice (a buffered one, or an overlapping minute), moves that by a tick.
      clock.advance(15 * SECOND);
      await alerts.evaluate();
      expect(only(alerts).verdict).toBeUndefined();
      clock.advance(15 * SECOND);
      await alerts.evaluate();
      expect(only(alerts).verdict).toMatchObject({ breached: false });
    } finally {
      await alerts.close();
    }
  });

  it('seeds a rule added while the engine runs', async () => {
    const clock = seedClock();
    const store = new MemoryHistoryStore({ clock });
    const start = clock.epochNow();
    await writeMinutes(store, start - 40 * MINUTE, start - MINUTE, MINUTE, (at) => [
      metricRollup('system.cpu.percent', 40 + (at - start) / MINUTE),
    ]);
    const { gauge, source } = gaugeSource('system.cpu', 40);
    const { alerts } = engine(
      clock,
      alertHistoryReader(() => store),
      { sources: [source] },
    );
    try {
      alerts.start();
      alerts.rule({
        name: 'CpuClimbing',
        watch: 'system.cpu',
        condition: { trend: { slopeAbove: 0.5 } },
      });
      alerts.stop();
      await alerts.seeded();
      clock.advance(15 * SECOND);
      gauge.value = 40.25;
      await alerts.evaluate();
      const [alert] = alerts.list({ state: 'firing' });
      expect(alert?.rule).toBe('CpuClimbing');
      expect(alert!.verdict!.score!).toBeCloseTo(1, 1);
    } finally {
      await alerts.close();
    }
  });

  it('gives up on a history that never answers: rules learn live, one warning', async () => {
    const clock = seedClock();
    const never: AlertHistoryReader = { read: () => new Promise(() => undefined) };
    const { gauge, source } = gaugeSource('system.cpu', 50);
    const { alerts, logger } = engine(clock, never, {
      sources: [source],
      historyTimeout: '300ms',
      rules: [
        { ...learning, condition: { anomaly: { seasonal: false, minSamples: 5 } } },
        { name: 'CpuFlat', watch: 'system.cpu', condition: { trend: { slopeBelow: -100 } } },
        { name: 'CpuHigh', watch: 'system.cpu', condition: { above: 90 } },
      ],
    });
    try {
      const started = performance.now();
      startByHand(alerts);
      await alerts.seeded();
      expect(performance.now() - started).toBeLessThan(5_000);
      await liveRun(alerts, clock, gauge);
      const warnings = logger.lines.filter((l) => l.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toMatch(/metrics history could not be read/);
    } finally {
      await alerts.close();
    }
  });

  it.runIf(requires(redis))(
    'starts empty when the Redis history is down: rules evaluate live, one warning',
    async () => {
      const clock = seedClock();
      // Nothing listens on port 1: every call fails.
      const store = new RedisHistoryStore({
        url: 'redis://127.0.0.1:1',
        commandTimeoutMs: 200,
        clock,
      });
      const { gauge, source } = gaugeSource('system.cpu', 50);
      const { alerts, logger } = engine(
        clock,
        alertHistoryReader(() => store),
        {
          sources: [source],
          rules: [
            { ...learning, condition: { anomaly: { seasonal: false, minSamples: 5 } } },
            { name: 'CpuHigh', watch: 'system.cpu', condition: { above: 90 } },
          ],
        },
      );
      try {
        startByHand(alerts);
        await alerts.seeded();
        // A rule added later finds the history down too: no second warning.
        alerts.start();
        alerts.rule({
          name: 'CpuFlat',
          watch: 'system.cpu',
          condition: { trend: { slopeBelow: -100 } },
        });
        alerts.stop();
        await alerts.seeded();
        await liveRun(alerts, clock, gauge);
        const warnings = logger.lines.filter((l) => l.level === 'warn');
        expect(warnings).toHaveLength(1);
        expect(warnings[0]!.fields.err).toBeTruthy();
      } finally {
        await alerts.close();
        await store.close();
      }
    },
  );
});

/**
 * Readings as without a history: the anomaly rule warms up on its own readings (5 of them) and
 * fires on a jump; the threshold rule fires at once.
 */
async function liveRun(
  alerts: Alerts,
  clock: { advance(ms: number): void },
  gauge: { value: number },
): Promise<void> {
  for (let i = 0; i < 8; i++) {
    clock.advance(15 * SECOND);
    gauge.value = 50 + (i % 3) * 0.5;
    await alerts.evaluate();
  }
  const unusual = alerts.list({ state: 'inactive' }).find((a) => a.rule === 'CpuUnusual');
  expect(unusual?.verdict).toMatchObject({ breached: false });
  clock.advance(15 * SECOND);
  gauge.value = 95;
  await alerts.evaluate();
  expect(
    alerts
      .list({ state: 'firing' })
      .map((a) => a.rule)
      .sort(),
  ).toEqual(['CpuHigh', 'CpuUnusual']);
}
