/**
 * npm run bench:alerts (first part; bench/alerts-engine.bench.ts follows)
 *
 * The alert detectors' cost, in one process:
 *
 * 1. per sample: `observe` + `evaluate` of one anomaly detector (plain baseline, and with its
 *    hour-of-week cells judging), of one threshold detector for reference, and `observe` alone;
 * 2. per evaluation: `evaluate` of a trend and a forecast detector holding 60 points (one a
 *    minute over a 60 minute window), after a new sample each time;
 * 3. memory: 10,000 detectors in the mix 70% threshold, 20% anomaly, 10% trend or forecast, each
 *    fed 60 one-minute points (heap and array buffers after a full GC, over an empty baseline);
 *    then the same with every anomaly detector's seasonal cells allocated (fed 2 hours instead),
 *    the worst case of a long-lived deployment;
 * 4. one pass that observes a new sample into each of the 10,000 and evaluates it; and one that
 *    judges it instead (`judge`: the verdict without its evidence), as the alerts engine does on
 *    each tick;
 * 5. false alarms of the anomaly detector on noise alone, at the default sensitivity: 40 series
 *    of 5,000 one-minute samples of each of Gaussian, Laplace and Student t (5 and 3 degrees of
 *    freedom) noise, seeded.
 *
 * Each timing is the median of BENCH_ROUNDS rounds (default 15; 5 passes a round for (4)).
 * BENCH_SAMPLES (default 200,000) sets the samples per round of (1).
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createDetector } from '../src/alerts/detectors/index.js';
import type { AlertCondition, Detector } from '../src/alerts/types.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200_000);
const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 5);
const DETECTORS = 10_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Deterministic noise around 100 (no PRNG state in the timed loops). */
const NOISE = Float64Array.from(
  { length: 4_096 },
  (_, i) => 100 + 10 * Math.sin(i * 12.9898) * Math.cos(i * 78.233),
);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function perSample(): Map<string, number> {
  const variants: { name: string; build: () => Detector; evaluate: boolean; warm: number }[] = [
    {
      name: 'anomaly, observe + evaluate',
      build: () => createDetector({ anomaly: { seasonal: false } }),
      evaluate: true,
      warm: 5_000,
    },
    {
      name: 'anomaly, hour-of-week cells judging',
      build: () => createDetector({ anomaly: {} }),
      evaluate: true,
      warm: 8 * 1_440,
    },
    {
      name: 'anomaly, observe only',
      build: () => createDetector({ anomaly: { seasonal: false } }),
      evaluate: false,
      warm: 5_000,
    },
    {
      name: 'threshold, observe + evaluate',
      build: () => createDetector({ above: 500 }),
      evaluate: true,
      warm: 5_000,
    },
  ];
  const state = variants.map((v) => {
    const detector = v.build();
    for (let i = 0; i < v.warm; i++) detector.observe(START + i * MINUTE, NOISE[i & 4095]!);
    return { detector, next: v.warm };
  });
  const results = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  let sink = 0;
  for (let round = 0; round < ROUNDS + 1; round++) {
    variants.forEach((v, k) => {
      const s = state[k]!;
      const begin = process.hrtime.bigint();
      for (let i = 0; i < SAMPLES; i++) {
        const at = START + (s.next + i) * MINUTE;
        s.detector.observe(at, NOISE[(s.next + i) & 4095]!);
        if (v.evaluate) sink += s.detector.evaluate(at)!.value;
      }
      const ns = Number(process.hrtime.bigint() - begin) / SAMPLES;
      s.next += SAMPLES;
      if (round > 0) results.get(v.name)!.push(ns); // round 0 warms the code up
    });
  }
  if (sink === -1) console.log(sink);
  return new Map([...results].map(([name, xs]) => [name, median(xs)]));
}

function perEvaluation(): Map<string, number> {
  const conditions: [string, AlertCondition][] = [
    ['trend, 60 points', { trend: { window: '60m', slopeAbove: 5 } }],
    ['forecast, 60 points', { forecast: { threshold: 1e6, within: '1h', window: '60m' } }],
  ];
  const out = new Map<string, number>();
  for (const [name, condition] of conditions) {
    const detector = createDetector(condition);
    for (let i = 0; i < 60; i++) detector.observe(START + i * MINUTE, NOISE[i]! + i);
    const times: number[] = [];
    let next = 60;
    let sink = 0;
    for (let round = 0; round < ROUNDS + 1; round++) {
      const calls = 2_000;
      let spent = 0;
      for (let i = 0; i < calls; i++) {
        const at = START + next * MINUTE;
        detector.observe(at, NOISE[next & 4095]! + next);
        next++;
        const begin = performance.now();
        sink += detector.evaluate(at)!.value;
        spent += performance.now() - begin;
      }
      if (round > 0) times.push((spent * 1e6) / calls);
    }
    if (sink === -1) console.log(sink);
    out.set(name, median(times));
  }
  return out;
}

/** The condition of detector `i` in the mix 70% threshold, 20% anomaly, 5% trend, 5% forecast. */
function mixCondition(i: number): AlertCondition {
  const slot = i % 20;
  if (slot < 14) return { above: 500 };
  if (slot < 18) return { anomaly: {} };
  if (slot === 18) return { trend: { slopeAbove: 5 } };
  return { forecast: { threshold: 1e6, within: '1h' } };
}

function heapNow(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function buildMix(points: number): Detector[] {
  const detectors: Detector[] = [];
  for (let i = 0; i < DETECTORS; i++) {
    const detector = createDetector(mixCondition(i));
    for (let p = 0; p < points; p++) detector.observe(START + p * MINUTE, NOISE[(i + p) & 4095]!);
    detectors.push(detector);
  }
  return detectors;
}

function memory(points: number): number {
  const before = heapNow();
  const detectors = buildMix(points);
  const after = heapNow();
  if (detectors.length !== DETECTORS) throw new Error('unreachable');
  return (after - before) / 1024 / 1024;
}

const KINDS = ['threshold', 'anomaly', 'trend', 'forecast'] as const;
/** The kind of detector `i`, as built by mixCondition. */
function kindOf(i: number): (typeof KINDS)[number] {
  const slot = i % 20;
  return slot < 14 ? 'threshold' : slot < 18 ? 'anomaly' : slot === 18 ? 'trend' : 'forecast';
}

/**
 * Milliseconds for one pass over all 10,000, and the share of each kind (in passes of its own).
 * The per-kind passes run on a second mix, so that every detector sees one sample a minute and
 * the trend and forecast windows stay full.
 */
function onePass(): { all: number; judged: number; byKind: Map<string, number> } {
  const mixes = { all: buildMix(60), judged: buildMix(60), byKind: buildMix(60) };
  const kinds = mixes.all.map((_, i) => kindOf(i));
  let sink = 0;
  const ticks = new Map<string, number>([
    ['all', 60],
    ['judged', 60],
    ...KINDS.map((k) => [k, 60] as const),
  ]);
  const pass = (only?: string, judge = false) => {
    const name = judge ? 'judged' : (only ?? 'all');
    const detectors = judge ? mixes.judged : only === undefined ? mixes.all : mixes.byKind;
    const tick = ticks.get(name)!;
    ticks.set(name, tick + 1);
    const at = START + tick * MINUTE;
    const begin = performance.now();
    for (let i = 0; i < DETECTORS; i++) {
      if (only !== undefined && kinds[i] !== only) continue;
      const detector = detectors[i]!;
      detector.observe(at, NOISE[(i + tick) & 4095]!);
      if (judge ? detector.judge(at) : detector.evaluate(at)?.breached) sink++;
    }
    return performance.now() - begin;
  };
  const all: number[] = [];
  const judged: number[] = [];
  const byKind = new Map<string, number[]>(KINDS.map((k) => [k, []]));
  // Passes are short: five per round, so that a busy machine's pauses fall outside the median.
  for (let round = 0; round < 5 * ROUNDS + 3; round++) {
    const ms = pass();
    const judgedMs = pass(undefined, true);
    for (const kind of KINDS) {
      const kindMs = pass(kind);
      if (round >= 3) byKind.get(kind)!.push(kindMs);
    }
    if (round >= 3) {
      all.push(ms);
      judged.push(judgedMs);
    }
  }
  if (sink === -1) console.log(sink);
  return {
    all: median(all),
    judged: median(judged),
    byKind: new Map([...byKind].map(([k, xs]) => [k, median(xs)])),
  };
}

/** mulberry32, seeded. */
function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gaussian(random: () => number): number {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
function studentT(random: () => number, nu: number): number {
  let chi = 0;
  for (let i = 0; i < nu; i++) chi += gaussian(random) ** 2;
  return gaussian(random) / Math.sqrt(chi / nu);
}
const NOISES: [string, (random: () => number) => number][] = [
  ['Gaussian', gaussian],
  [
    'Laplace',
    (random) => {
      const u = random() - 0.5;
      return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
    },
  ],
  ['Student t, 5 degrees of freedom', (random) => studentT(random, 5)],
  ['Student t, 3 degrees of freedom', (random) => studentT(random, 3)],
];

/** Per noise: false alarms, series with at least one, and the median bar at the end. */
function falseAlarms(): { name: string; alarms: number; series: number; bar: number }[] {
  const SERIES = 40;
  const LENGTH = 5_000;
  return NOISES.map(([name, noise]) => {
    let alarms = 0;
    let series = 0;
    const bars: number[] = [];
    for (let seed = 1; seed <= SERIES; seed++) {
      const random = prng(seed);
      const detector = createDetector({ anomaly: {} });
      let own = 0;
      let reason = '';
      for (let i = 0; i < LENGTH; i++) {
        const at = START + i * MINUTE;
        detector.observe(at, 100 + 10 * noise(random));
        const verdict = detector.evaluate(at);
        if (verdict?.breached) own++;
        reason = verdict?.reason ?? reason;
      }
      alarms += own;
      if (own > 0) series++;
      bars.push(Number(/bar ([\d.]+)/.exec(reason)?.[1]));
    }
    return { name, alarms, series, bar: median(bars) };
  });
}

function kindCount(kind: string): number {
  let n = 0;
  for (let i = 0; i < DETECTORS; i++) if (kindOf(i) === kind) n++;
  return n;
}

const samples = perSample();
const evaluations = perEvaluation();
const memoryPlain = memory(60);
const memorySeasonal = memory(120);
const pass = onePass();
const noise = falseAlarms();

console.log(`node ${process.version}, ${ROUNDS} rounds, median round\n`);
console.log('## per sample');
console.log('| detector | ns/sample |');
console.log('| --- | ---: |');
for (const [name, ns] of samples) console.log(`| ${name} | ${ns.toFixed(0)} |`);
console.log('\n## per evaluation, after one new sample');
console.log('| detector | µs/evaluate |');
console.log('| --- | ---: |');
for (const [name, ns] of evaluations) console.log(`| ${name} | ${(ns / 1_000).toFixed(1)} |`);
console.log('\n## 10,000 detectors: 70% threshold, 20% anomaly, 5% trend, 5% forecast');
console.log('| measure | figure |');
console.log('| --- | ---: |');
console.log(`| memory, 60 one-minute points each | ${memoryPlain.toFixed(1)} MB |`);
console.log(
  `| memory, 120 points each (anomaly hour-of-week cells allocated) | ${memorySeasonal.toFixed(1)} MB |`,
);
console.log(`| one pass: observe + evaluate each | ${pass.all.toFixed(2)} ms |`);
console.log(`| one pass: observe + judge each (the engine's) | ${pass.judged.toFixed(2)} ms |`);
for (const [kind, ms] of pass.byKind) {
  console.log(`| of which ${kind} (${kindCount(kind)} detectors) | ${ms.toFixed(2)} ms |`);
}
console.log(
  '\n## anomaly detector on noise alone, default sensitivity (40 series x 5,000 samples)',
);
console.log(
  '| noise | false alarms | series with one or more | bar at the end, spreads (median) |',
);
console.log('| --- | ---: | ---: | ---: |');
for (const row of noise) {
  console.log(`| ${row.name} | ${row.alarms} | ${row.series} of 40 | ${row.bar.toFixed(1)} |`);
}
const anomalyNs = samples.get('anomaly, observe + evaluate')!;
const seasonalNs = samples.get('anomaly, hour-of-week cells judging')!;
const met = (ok: boolean) => (ok ? 'met' : 'not met');
console.log('\n| goal | result |');
console.log('| --- | --- |');
console.log(
  `| anomaly observe + evaluate < 1 µs | ${met(Math.max(anomalyNs, seasonalNs) < 1_000)}: ${anomalyNs.toFixed(0)} ns, ${seasonalNs.toFixed(0)} ns with hour-of-week cells |`,
);
console.log(
  `| 10,000 detectors < 50 MB | ${met(Math.max(memoryPlain, memorySeasonal) < 50)}: ${memoryPlain.toFixed(1)} MB, ${memorySeasonal.toFixed(1)} MB with cells |`,
);
console.log(
  `| one pass over 10,000 within a 20 ms tick | ${met(pass.all < 20)}: ${pass.all.toFixed(2)} ms (${((pass.all / 20) * 100).toFixed(0)}% of the tick); ${pass.judged.toFixed(2)} ms judging |`,
);
