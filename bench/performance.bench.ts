/**
 * npm run bench:performance
 *
 * The per-call cost of monitoring, measured in one process on the same no-op functions:
 * undecorated, `@MonitorPerformance`, `monitorPerformance()`, and prom-client's
 * `histogram.startTimer()` (with an operation label, as we record one, and without).
 * Variants run interleaved, round after round, and each figure is the median round.
 */
import * as hdr from 'hdr-histogram-js';
import client from 'prom-client';
import { configure, MonitorPerformance, monitorPerformance } from '../src/index.js';
import { DurationHistogram } from '../src/performance/histogram.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);

configure({ logLevel: 'silent' });

const labelled = new client.Histogram({
  name: 'bench_labelled_seconds',
  help: 'bench',
  labelNames: ['operation'],
});
const plain = new client.Histogram({ name: 'bench_plain_seconds', help: 'bench' });

class Service {
  syncNoop(x: number): number {
    return x;
  }
  async asyncNoop(x: number): Promise<number> {
    return x;
  }
  @MonitorPerformance('bench.sync')
  syncMonitored(x: number): number {
    return x;
  }
  @MonitorPerformance('bench.async')
  async asyncMonitored(x: number): Promise<number> {
    return x;
  }
  syncProm(x: number): number {
    const end = labelled.startTimer({ operation: 'bench.sync' });
    try {
      return x;
    } finally {
      end();
    }
  }
  async asyncProm(x: number): Promise<number> {
    const end = labelled.startTimer({ operation: 'bench.async' });
    try {
      return x;
    } finally {
      end();
    }
  }
  syncPromPlain(x: number): number {
    const end = plain.startTimer();
    try {
      return x;
    } finally {
      end();
    }
  }
  async asyncPromPlain(x: number): Promise<number> {
    const end = plain.startTimer();
    try {
      return x;
    } finally {
      end();
    }
  }
}

const service = new Service();
const wrappedSync = monitorPerformance('bench.fn.sync', (x: number) => x);
const wrappedAsync = monitorPerformance('bench.fn.async', async (x: number) => x);

type Variant = { name: string; run: () => unknown };

function syncLoop(fn: (x: number) => number): () => void {
  return () => {
    let acc = 0;
    for (let i = 0; i < CALLS; i++) acc += fn(i);
    if (acc === -1) console.log(acc);
  };
}
function asyncLoop(fn: (x: number) => Promise<number>): () => Promise<void> {
  return async () => {
    let acc = 0;
    for (let i = 0; i < CALLS; i++) acc += await fn(i);
    if (acc === -1) console.log(acc);
  };
}

const groups: { title: string; baseline: string; variants: Variant[] }[] = [
  {
    title: 'sync no-op',
    baseline: 'undecorated',
    variants: [
      { name: 'undecorated', run: syncLoop((x) => service.syncNoop(x)) },
      { name: '@MonitorPerformance', run: syncLoop((x) => service.syncMonitored(x)) },
      { name: 'monitorPerformance()', run: syncLoop(wrappedSync) },
      { name: 'prom-client startTimer (label)', run: syncLoop((x) => service.syncProm(x)) },
      { name: 'prom-client startTimer (no label)', run: syncLoop((x) => service.syncPromPlain(x)) },
    ],
  },
  {
    title: 'async no-op',
    baseline: 'undecorated',
    variants: [
      { name: 'undecorated', run: asyncLoop((x) => service.asyncNoop(x)) },
      { name: '@MonitorPerformance', run: asyncLoop((x) => service.asyncMonitored(x)) },
      { name: 'monitorPerformance()', run: asyncLoop(wrappedAsync) },
      { name: 'prom-client startTimer (label)', run: asyncLoop((x) => service.asyncProm(x)) },
      {
        name: 'prom-client startTimer (no label)',
        run: asyncLoop((x) => service.asyncPromPlain(x)),
      },
    ],
  },
];

async function measure(): Promise<void> {
  console.log(`node ${process.version}, ${ROUNDS} rounds x ${CALLS} calls, median round\n`);
  for (const group of groups) {
    const samples = new Map<string, number[]>(group.variants.map((v) => [v.name, []]));
    for (const v of group.variants) await v.run(); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of group.variants) {
        const start = process.hrtime.bigint();
        await v.run();
        samples.get(v.name)!.push(Number(process.hrtime.bigint() - start) / CALLS);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const base = median(samples.get(group.baseline)!);
    console.log(`## ${group.title}`);
    console.log('| variant | ns/call | added ns/call |');
    console.log('| --- | ---: | ---: |');
    const added = new Map<string, number>();
    for (const v of group.variants) {
      const ns = median(samples.get(v.name)!);
      added.set(v.name, ns - base);
      console.log(`| ${v.name} | ${ns.toFixed(1)} | ${(ns - base).toFixed(1)} |`);
    }
    const ours = added.get('@MonitorPerformance')!;
    const prom = added.get('prom-client startTimer (label)')!;
    console.log(
      `\n@MonitorPerformance adds ${ours.toFixed(1)} ns, ${((ours / prom) * 100).toFixed(0)}% of prom-client's labelled startTimer (${prom.toFixed(1)} ns)\n`,
    );
  }
}

async function histogramRecording(): Promise<void> {
  const ours = new DurationHistogram();
  const options = {
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 2 as const,
    autoResize: true,
  };
  const theirs = hdr.build(options);
  await hdr.initWebAssembly();
  const theirsWasm = hdr.build({ ...options, useWebAssembly: true });
  const values = Float64Array.from({ length: 4096 }, (_, i) => 50 + ((i * 7919) % 200_000));
  const time = (fn: (v: number) => void) => {
    for (let i = 0; i < 1_000_000; i++) fn(values[i & 4095]!);
    const start = process.hrtime.bigint();
    for (let i = 0; i < 5_000_000; i++) fn(values[i & 4095]!);
    return Number(process.hrtime.bigint() - start) / 5_000_000;
  };
  console.log('## recording one value into a histogram (2 significant digits)');
  console.log('| histogram | ns/record |');
  console.log('| --- | ---: |');
  console.log(`| DurationHistogram (ours) | ${time((v) => ours.record(v)).toFixed(1)} |`);
  console.log(
    `| hdr-histogram-js recordValue | ${time((v) => theirs.recordValue(v)).toFixed(1)} |`,
  );
  console.log(
    `| hdr-histogram-js recordValue (WebAssembly) | ${time((v) => theirsWasm.recordValue(v)).toFixed(1)} |`,
  );
  theirsWasm.destroy();
}

/** What a monitored call cannot avoid: two clock reads and, for async calls, one promise reaction. */
async function buildingBlocks(): Promise<void> {
  const loops = 2_000_000;
  const time = (fn: () => void) => {
    for (let i = 0; i < loops / 4; i++) fn();
    const start = process.hrtime.bigint();
    for (let i = 0; i < loops; i++) fn();
    return Number(process.hrtime.bigint() - start) / loops;
  };
  const timeAsync = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < loops / 8; i++) await fn();
    const start = process.hrtime.bigint();
    for (let i = 0; i < loops / 4; i++) await fn();
    return Number(process.hrtime.bigint() - start) / (loops / 4);
  };
  const noop = () => {};
  const asyncNoop = async () => 1;
  const bare = await timeAsync(asyncNoop);
  const reacted = await timeAsync(() => {
    const p = asyncNoop();
    p.then(noop, noop);
    return p;
  });
  console.log('\n## building blocks (AsyncLocalStorage in use, as in the runs above)');
  console.log('| operation | ns |');
  console.log('| --- | ---: |');
  console.log(`| performance.now() | ${time(() => performance.now()).toFixed(1)} |`);
  console.log(`| process.hrtime.bigint() | ${time(() => process.hrtime.bigint()).toFixed(1)} |`);
  console.log(
    `| one extra promise reaction (.then) on an async call | ${(reacted - bare).toFixed(1)} |`,
  );
}

await measure();
await histogramRecording();
await buildingBlocks();
