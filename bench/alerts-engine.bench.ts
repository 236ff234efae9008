/**
 * npm run bench:alerts (after the detectors' bench)
 *
 * One evaluation tick of the alerts engine, in one process:
 *
 * - an `Alerts` engine (memory store, a fake clock, a channel that does nothing) with 1,000 rules,
 *   each watching its own value source of 10 series: 10,000 (rule, series) pairs, in the mix 70%
 *   threshold, 20% anomaly, 5% trend, 5% forecast (trend and forecast on their default 30 minute
 *   window, as in the detectors' bench); every rule has a summary template and a rule label;
 * - 60 one-minute ticks of history first (the clock advanced a minute before each), then
 *   BENCH_TICKS (30) ticks measured: CPU time (process.cpuUsage: every thread, so garbage
 *   collection included; none is forced) and wall time of `await alerts.evaluate()` and the
 *   deliveries it starts;
 * - steady state (no series changes state), then with 10% of the series (threshold series) above
 *   their threshold for two ticks and below for two, half of them a tick out of step: 500
 *   transitions a tick (5% of the series) and the notifications they cause;
 * - the floor: the same 10,000 detectors fed the same values, one observe + judge pass a tick
 *   (what the engine asks of each detector at each tick; it builds a verdict only for an alert
 *   it shows) without the engine, measured the same way in blocks of ten ticks taking turns with
 *   the engine's. There is no in-process Alertmanager to run beside the engine; what it adds over
 *   this floor is its own cost;
 * - the heap (plus array buffers, after a full GC) the engine holds for the 10,000 pairs after
 *   the 60 ticks of history, and the detectors alone, each over the heap before it was built.
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

const HOSTS = Array.from({ length: SERIES }, (_, k) => `host-${k}`);

/**
 * A source reads as the package's do: new objects at each read, label values taken from what it
 * holds (an operation's name and labels).
 */
function sourceOf(r: number): ValueSource {
  const service = `svc-${r % 50}`;
  return {
    name: `bench.source_${r}`,
    read: (): SeriesValue[] => {
      const out: SeriesValue[] = [];
      for (let k = 0; k < SERIES; k++) {
        out.push({ labels: { instance: HOSTS[k]!, service }, value: sampleOf(r, k) });
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
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1_000;

interface Timed {
  cpu: number[];
  wall: number[];
  transitions: number[];
  notifications: number[];
}
const timed = (): Timed => ({ cpu: [], wall: [], transitions: [], notifications: [] });

/** The floor: the same detectors, fed the same values, one observe + judge pass per tick. */
const detectors: Detector[][] = [];
function floorPass(): number {
  const at = START + world.tick * MINUTE;
  let breached = 0;
  for (let r = 0; r < RULES; r++) {
    const list = detectors[r]!;
    for (let k = 0; k < SERIES; k++) {
      const detector = list[k]!;
      detector.observe(at, sampleOf(r, k));
      if (detector.judge(at)) breached++;
    }
  }
  return breached;
}

// Memory first, each over its own baseline: the detectors alone, then the engine.
const sources = Array.from({ length: RULES }, (_, r) => sourceOf(r));
const definitions = Array.from({ length: RULES }, (_, r) => ruleOf(r));
let before = heapNow();
for (let r = 0; r < RULES; r++) {
  detectors.push(Array.from({ length: SERIES }, () => createDetector(CONDITIONS[kindOf(r)])));
}
for (world.tick = 1; world.tick <= HISTORY; world.tick++) floorPass();
const floorMb = (heapNow() - before) / 1024 / 1024;

before = heapNow();
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
  await alerts.evaluate();
  await flush();
};
for (world.tick = 1; world.tick <= HISTORY; world.tick++) {
  clock.t = world.tick * MINUTE;
  await tick();
}
const engineMb = (heapNow() - before) / 1024 / 1024;

/** Ticks of the floor and of the engine: each side reads the values of its own tick. */
const ticks = { floor: HISTORY, engine: HISTORY };
/** Ticks measured in a row on one side before the other side's turn. */
const BLOCK = 10;

/**
 * `TICKS` ticks of each side on the same values, in blocks of {@link BLOCK} taking turns (floor,
 * engine, floor...), so that a busier or quieter spell of the machine falls on both, and each
 * side pays for the collections its own garbage causes. No GC is forced.
 */
async function measure(flip: boolean): Promise<{ engine: Timed; floor: Timed }> {
  world.flip = flip;
  const engine = timed();
  const floor = timed();
  // Four ticks of each unmeasured: the flipping series reach their cycle.
  for (let i = 0; i < 4; i++) {
    world.tick = ++ticks.floor;
    floorPass();
    world.tick = ++ticks.engine;
    clock.t = world.tick * MINUTE;
    await tick();
  }
  while (engine.cpu.length < TICKS) {
    const block = Math.min(BLOCK, TICKS - engine.cpu.length);
    for (let i = 0; i < block; i++) {
      world.tick = ++ticks.floor;
      const cpu = process.cpuUsage();
      const wall = performance.now();
      floorPass();
      floor.wall.push(performance.now() - wall);
      floor.cpu.push(cpuMs(process.cpuUsage(cpu)));
    }
    for (let i = 0; i < block; i++) {
      world.tick = ++ticks.engine;
      clock.t = world.tick * MINUTE;
      transitions = 0;
      sent = 0;
      const cpu = process.cpuUsage();
      const wall = performance.now();
      await tick();
      engine.wall.push(performance.now() - wall);
      engine.cpu.push(cpuMs(process.cpuUsage(cpu)));
      engine.transitions.push(transitions);
      engine.notifications.push(sent);
    }
  }
  return { engine, floor };
}

const steady = await measure(false);
const moving = await measure(true);
await alerts.close();

const pairs = RULES * SERIES;
const fmt = (ms: number) => ms.toFixed(2);
const row = (name: string, t: Timed, counts = true) => {
  const notified = counts ? mean(t.notifications).toFixed(0) : '';
  console.log(
    `| ${name} | ${fmt(median(t.cpu))} | ${fmt(p95(t.cpu))} | ${fmt(mean(t.cpu))} | ${fmt(median(t.wall))} | ${counts ? median(t.transitions) : ''} | ${notified} |`,
  );
};
console.log(
  `node ${process.version}, ${RULES} rules x ${SERIES} series = ${pairs.toLocaleString('en')} pairs, ${HISTORY} ticks of history, ${TICKS} ticks measured\n`,
);
console.log('## one engine tick (`await alerts.evaluate()` and the deliveries it starts)');
console.log(
  '| scenario | CPU ms, median | CPU ms, p95 | CPU ms, mean | wall ms, median | transitions per tick (median) | notifications per tick (mean) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
row('steady state', steady.engine);
row('floor beside it: the detectors alone, one pass', steady.floor, false);
row(`${TRANSITIONING * 100}% of the series transitioning`, moving.engine);
row('floor beside it: the detectors alone, one pass', moving.floor, false);
console.log('\n## memory after 60 ticks, heap + array buffers after a full GC');
console.log('| what | MB |');
console.log('| --- | ---: |');
console.log(`| the engine for ${pairs.toLocaleString('en')} pairs | ${engineMb.toFixed(1)} |`);
console.log(`| the detectors alone | ${floorMb.toFixed(1)} |`);

const steadyCpu = median(steady.engine.cpu);
const movingCpu = median(moving.engine.cpu);
const floorCpu = median(steady.floor.cpu);
const met = (ok: boolean) => (ok ? 'met' : 'not met');
console.log('\n| goal | result |');
console.log('| --- | --- |');
console.log(
  `| one tick < 20 ms CPU, steady | ${met(steadyCpu < 20)}: ${fmt(steadyCpu)} ms (p95 ${fmt(p95(steady.engine.cpu))}); the engine adds ${fmt(steadyCpu - floorCpu)} ms to the detectors' ${fmt(floorCpu)} ms |`,
);
console.log(
  `| one tick < 20 ms CPU, ${TRANSITIONING * 100}% transitioning | ${met(movingCpu < 20)}: ${fmt(movingCpu)} ms (p95 ${fmt(p95(moving.engine.cpu))}) |`,
);
console.log(
  `| engine state for ${pairs.toLocaleString('en')} pairs < 50 MB | ${met(engineMb < 50)}: ${engineMb.toFixed(1)} MB |`,
);
