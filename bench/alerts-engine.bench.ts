/**
 * npm run bench:alerts (after the detectors' bench)
 *
 * One evaluation tick of the alerts engine, in one process:
 *
 * - an `Alerts` engine (memory store, a fake clock, a channel that does nothing) with 1,000 rules,
 *   each watching its own value source of 10 series: 10,000 (rule, series) pairs, in the mix 70%
 *   threshold, 20% anomaly, 5% trend, 5% forecast (trend and forecast on their default 30 minute
 *   window, as in the detectors' bench);
 *   every rule has a summary template and a rule label, as a real rule does;
 * - 60 one-minute ticks of history first (the clock advanced a minute before each), then
 *   BENCH_TICKS (30) ticks measured: CPU time (process.cpuUsage, every thread, GC included) and
 *   wall time of `await alerts.evaluate()` and the deliveries it starts, after a full GC;
 * - steady state (no series changes state), then with 10% of the series (threshold series) above
 *   their threshold for two ticks and below for two, half of them a tick out of step: 500
 *   transitions a tick (5% of the series) and the notifications they cause;
 * - the heap (plus array buffers) the engine holds for the 10,000 pairs after the 60 ticks of
 *   history, after a full GC, over the heap before it was built;
 * - the floor: the same 10,000 detectors fed the same values, one observe + evaluate pass each
 *   tick without the engine (CPU time, same process, same run). There is no in-process
 *   Alertmanager to run beside the engine; its overhead over this floor is what it adds.
 *
 * BENCH_RULES (1,000) and BENCH_TICKS (30) change its size.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Alerts } from '../src/alerts/alerts.js';
import { createDetector } from '../src/alerts/detectors/index.js';
import { MemoryAlertStore } from '../src/alerts/memory-store.js';
import type {
  AlertChannel,
  AlertCondition,
  AlertRuleDefinition,
  Detector,
  SeriesValue,
  ValueSource,
} from '../src/alerts/types.js';
import type { Logger } from '../src/core/logger.js';

const RULES = Number(process.env.BENCH_RULES ?? 1_000);
const TICKS = Number(process.env.BENCH_TICKS ?? 30);
const SERIES = 10;
const HISTORY = 60;
const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 5);
/** Share of the series that cross their threshold at each tick of the second scenario. */
const TRANSITIONING = 0.05;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Gaussian noise, seeded (mulberry32 + Box-Muller), looked up so the sources cost little. */
const NOISE = (() => {
  let a = 7;
  const random = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float64Array.from({ length: 8_192 }, () => {
    let u = 0;
    while (u === 0) u = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  });
})();

type Kind = 'threshold' | 'anomaly' | 'trend' | 'forecast';
/** Rule `r` in the mix 70% threshold, 20% anomaly, 5% trend, 5% forecast. */
function kindOf(r: number): Kind {
  const slot = r % 20;
  return slot < 14 ? 'threshold' : slot < 18 ? 'anomaly' : slot === 18 ? 'trend' : 'forecast';
}
const CONDITIONS: Record<Kind, AlertCondition> = {
  threshold: { above: 500 },
  anomaly: { anomaly: {} },
  trend: { trend: { slopeAbove: 5 } },
  forecast: { forecast: { threshold: 1e6, within: '1h' } },
};

/**
 * The series that cross their threshold in the second scenario: series 0 and 1 of the first
 * threshold rules, 10% of the series, each above its threshold for two ticks and below it for two,
 * half of them a tick out of step: 5% of the series change state at each tick, and a firing alert
 * lasts long enough to be notified (the default route waits 30 s).
 */
const flipping = new Set<number>();
for (let r = 0; r < RULES && flipping.size < RULES * SERIES * TRANSITIONING; r++) {
  if (kindOf(r) === 'threshold') flipping.add(r);
}

/** What the sources return: the tick number and whether the flipping series flip. */
const world = { tick: 0, flip: false };

/** Series `k` of rule `r` at the current tick: noise around 100, or above 500 when flipped up. */
function sampleOf(r: number, k: number): number {
  if (world.flip && k < 2 && flipping.has(r) && ((world.tick + k) >> 1) % 2 === 1) return 1_000;
  return 100 + 5 * NOISE[(r * 131 + k * 17 + world.tick * 7) & 8_191]!;
}

/** A source reads as a real one does: new objects each read. */
function sourceOf(r: number): ValueSource {
  return {
    name: `bench.source_${r}`,
    read: (): SeriesValue[] => {
      const out: SeriesValue[] = [];
      for (let k = 0; k < SERIES; k++) {
        out.push({
          labels: { instance: `host-${k}`, service: `svc-${r % 50}` },
          value: sampleOf(r, k),
        });
      }
      return out;
    },
  };
}

function ruleOf(r: number): AlertRuleDefinition {
  return {
    name: `BenchRule${r}`,
    watch: `bench.source_${r}`,
    condition: CONDITIONS[kindOf(r)],
    severity: r % 3 === 0 ? 'critical' : 'warning',
    labels: { team: `team-${r % 7}` },
    summary: '{{labels.service}} on {{labels.instance}} is {{value}} ({{reason}})',
  };
}

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silent,
};
let sent = 0;
const noop: AlertChannel = {
  name: 'noop',
  send: async () => {
    sent++;
  },
};

const clock = { t: 0, now: () => clock.t, epochNow: () => START + clock.t };

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function heapNow(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => sorted(xs)[Math.ceil(xs.length * 0.95) - 1]!;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1_000;

interface Timed {
  cpu: number[];
  wall: number[];
  transitions: number[];
  notifications: number[];
}

async function engine(): Promise<{ mb: number; steady: Timed; moving: Timed; alerts: Alerts }> {
  const sources = Array.from({ length: RULES }, (_, r) => sourceOf(r));
  const definitions = Array.from({ length: RULES }, (_, r) => ruleOf(r));
  const before = heapNow();
  const alerts = new Alerts({
    evaluationInterval: '1m',
    clock,
    logger: silent,
    store: new MemoryAlertStore({ clock }),
    channels: [noop],
    sources,
    rules: definitions,
  });
  let transitions = 0;
  alerts.on('transition', () => {
    transitions++;
  });
  const tick = async () => {
    world.tick++;
    clock.t += MINUTE;
    await alerts.evaluate();
    await flush();
  };
  for (let i = 0; i < HISTORY; i++) await tick();
  const mb = (heapNow() - before) / 1024 / 1024;

  const measure = async (flip: boolean): Promise<Timed> => {
    world.flip = flip;
    const out: Timed = { cpu: [], wall: [], transitions: [], notifications: [] };
    // Four ticks unmeasured: the flipping series reach their cycle.
    for (let i = 0; i < TICKS + 4; i++) {
      gc();
      transitions = 0;
      sent = 0;
      const cpu = process.cpuUsage();
      const wall = performance.now();
      await tick();
      const w = performance.now() - wall;
      const c = cpuMs(process.cpuUsage(cpu));
      if (i < 4) continue;
      out.cpu.push(c);
      out.wall.push(w);
      out.transitions.push(transitions);
      out.notifications.push(sent);
    }
    return out;
  };
  const steady = await measure(false);
  const moving = await measure(true);
  world.flip = false;
  return { mb, steady, moving, alerts };
}

/** The same detectors fed the same values, without the engine. */
function floor(): { mb: number; cpu: number[] } {
  world.tick = 0;
  const before = heapNow();
  const detectors: Detector[][] = Array.from({ length: RULES }, (_, r) =>
    Array.from({ length: SERIES }, () => createDetector(CONDITIONS[kindOf(r)])),
  );
  const pass = () => {
    world.tick++;
    const at = START + world.tick * MINUTE;
    let breached = 0;
    for (let r = 0; r < RULES; r++) {
      const list = detectors[r]!;
      for (let k = 0; k < SERIES; k++) {
        const detector = list[k]!;
        detector.observe(at, sampleOf(r, k));
        if (detector.evaluate(at)?.breached) breached++;
      }
    }
    return breached;
  };
  for (let i = 0; i < HISTORY; i++) pass();
  const mb = (heapNow() - before) / 1024 / 1024;
  const cpu: number[] = [];
  for (let i = 0; i < TICKS + 2; i++) {
    gc();
    const start = process.cpuUsage();
    pass();
    if (i >= 2) cpu.push(cpuMs(process.cpuUsage(start)));
  }
  if (detectors.length !== RULES) throw new Error('unreachable');
  return { mb, cpu };
}

const base = floor();
const run = await engine();
await run.alerts.close();

const pairs = RULES * SERIES;
const fmt = (ms: number) => ms.toFixed(2);
const row = (name: string, t: Timed) => {
  const moved = median(t.transitions);
  const notified = t.notifications.reduce((a, b) => a + b, 0) / t.notifications.length;
  console.log(
    `| ${name} | ${fmt(median(t.cpu))} | ${fmt(p95(t.cpu))} | ${fmt(median(t.wall))} | ${fmt(p95(t.wall))} | ${moved} | ${notified.toFixed(0)} |`,
  );
};
console.log(
  `node ${process.version}, ${RULES} rules x ${SERIES} series = ${pairs.toLocaleString('en')} pairs, ${HISTORY} ticks of history, ${TICKS} ticks measured\n`,
);
console.log('## one engine tick (`await alerts.evaluate()` and the deliveries it starts)');
console.log(
  '| scenario | CPU ms, median | CPU ms, p95 | wall ms, median | wall ms, p95 | transitions per tick (median) | notifications per tick (mean) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
row('steady state', run.steady);
row(`${TRANSITIONING * 100}% of the series transitioning`, run.moving);
console.log(
  `| floor: the detectors alone, one observe + evaluate pass | ${fmt(median(base.cpu))} | ${fmt(p95(base.cpu))} | | | | |`,
);
console.log('\n## memory after 60 ticks, heap + array buffers after a full GC');
console.log('| what | MB |');
console.log('| --- | ---: |');
console.log(`| the engine for ${pairs.toLocaleString('en')} pairs | ${run.mb.toFixed(1)} |`);
console.log(`| the detectors alone | ${base.mb.toFixed(1)} |`);

const steadyCpu = median(run.steady.cpu);
const movingCpu = median(run.moving.cpu);
const floorCpu = median(base.cpu);
const met = (ok: boolean) => (ok ? 'met' : 'not met');
console.log('\n| goal | result |');
console.log('| --- | --- |');
console.log(
  `| one tick < 20 ms CPU, steady | ${met(steadyCpu < 20)}: ${fmt(steadyCpu)} ms (p95 ${fmt(p95(run.steady.cpu))}); the engine adds ${fmt(steadyCpu - floorCpu)} ms to the detectors' ${fmt(floorCpu)} ms |`,
);
console.log(
  `| one tick < 20 ms CPU, ${TRANSITIONING * 100}% transitioning | ${met(movingCpu < 20)}: ${fmt(movingCpu)} ms (p95 ${fmt(p95(run.moving.cpu))}) |`,
);
console.log(
  `| engine state for ${pairs.toLocaleString('en')} pairs < 50 MB | ${met(run.mb < 50)}: ${run.mb.toFixed(1)} MB |`,
);
