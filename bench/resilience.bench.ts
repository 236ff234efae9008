/**
 * npm run bench:resilience
 *
 * What a closed circuit breaker adds to an async call (`async () => 1`, awaited one after the
 * other): ours beside cockatiel 3 and opossum 9, in one process and one run. Three groups, each
 * with the bare call as its floor:
 * - the breaker alone with each library's failure-count policy (ours: 5 in a row; cockatiel:
 *   ConsecutiveBreaker(5); opossum has no such policy and counts an error percentage over its
 *   rolling window, with its per-call timeout switched off);
 * - the breaker alone with an error-rate policy over a 10 s window (ours: `errorRate`; cockatiel:
 *   SamplingBreaker; opossum: its default policy, timeout off);
 * - the breaker with a 1 s per-call timeout (ours: `timeoutMs`; cockatiel: `wrap(timeout,
 *   breaker)`; opossum: `timeout: 1000`).
 * Variants run interleaved, round after round, starting with a different one each round. Each
 * figure is the median round of CPU time (process.cpuUsage: user + system, every thread, so
 * garbage collection counts) per call; "added" is the figure minus the bare call's.
 *
 * BENCH_ROUNDS (15) rounds of BENCH_CALLS (100,000) calls per variant.
 */
import {
  ConsecutiveBreaker,
  circuitBreaker as cockatielBreaker,
  timeout as cockatielTimeout,
  handleAll,
  SamplingBreaker,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import Opossum from 'opossum';
import { circuitBreaker } from '../src/resilience/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const CALLS = Number(process.env.BENCH_CALLS ?? 100_000);

const call = async () => 1;

type Variant = { name: string; run: () => Promise<number> };

const opossums: Opossum[] = [];
function opossum(options: Opossum.Options): () => Promise<number> {
  const breaker = new Opossum(call, options);
  opossums.push(breaker);
  return () => breaker.fire() as Promise<number>;
}

function loop(fn: () => Promise<number>): () => Promise<number> {
  return async () => {
    let acc = 0;
    for (let i = 0; i < CALLS; i++) acc += await fn();
    return acc;
  };
}

const ours = {
  consecutive: circuitBreaker('bench.consecutive', { registry: false }),
  errorRate: circuitBreaker('bench.error-rate', {
    errorRate: { threshold: 0.5, windowMs: 10_000, minimumCalls: 10 },
    registry: false,
  }),
  timeout: circuitBreaker('bench.timeout', { timeoutMs: 1_000, registry: false }),
};
const cockatiel = {
  consecutive: cockatielBreaker(handleAll, {
    halfOpenAfter: 10_000,
    breaker: new ConsecutiveBreaker(5),
  }),
  errorRate: cockatielBreaker(handleAll, {
    halfOpenAfter: 10_000,
    breaker: new SamplingBreaker({ threshold: 0.5, duration: 10_000 }),
  }),
  timeout: wrap(
    cockatielTimeout(1_000, TimeoutStrategy.Aggressive),
    cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  ),
};

const groups: { title: string; variants: Variant[] }[] = [
  {
    title: 'closed breaker, failure-count policy, no timeout',
    variants: [
      { name: 'bare call', run: loop(call) },
      { name: 'ours', run: loop(() => ours.consecutive.execute(call)) },
      { name: 'cockatiel', run: loop(() => cockatiel.consecutive.execute(call)) },
      { name: 'opossum', run: loop(opossum({ timeout: false })) },
    ],
  },
  {
    title: 'closed breaker, error rate over 10 s, no timeout',
    variants: [
      { name: 'bare call', run: loop(call) },
      { name: 'ours', run: loop(() => ours.errorRate.execute(call)) },
      { name: 'cockatiel', run: loop(() => cockatiel.errorRate.execute(call)) },
      {
        name: 'opossum',
        run: loop(
          opossum({ timeout: false, errorThresholdPercentage: 50, rollingCountTimeout: 10_000 }),
        ),
      },
    ],
  },
  {
    title: 'closed breaker with a 1 s per-call timeout',
    variants: [
      { name: 'bare call', run: loop(call) },
      { name: 'ours', run: loop(() => ours.timeout.execute(call)) },
      { name: 'cockatiel', run: loop(() => cockatiel.timeout.execute(call)) },
      { name: 'opossum', run: loop(opossum({ timeout: 1_000 })) },
    ],
  },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(group: { title: string; variants: Variant[] }): Promise<boolean> {
  const cpu = new Map<string, number[]>(group.variants.map((v) => [v.name, []]));
  const wall = new Map<string, number[]>(group.variants.map((v) => [v.name, []]));
  for (const v of group.variants) await v.run(); // warm-up
  const n = group.variants.length;
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < n; k++) {
      const v = group.variants[(round + k) % n]!;
      const started = process.hrtime.bigint();
      const before = process.cpuUsage();
      await v.run();
      const used = process.cpuUsage(before);
      wall.get(v.name)!.push(Number(process.hrtime.bigint() - started) / CALLS);
      cpu.get(v.name)!.push(((used.user + used.system) * 1000) / CALLS);
    }
  }
  const floor = median(cpu.get('bare call')!);
  const added = new Map(group.variants.map((v) => [v.name, median(cpu.get(v.name)!) - floor]));
  console.log(`## ${group.title}`);
  console.log('| variant | CPU ns/call | added CPU ns/call | wall ns/call |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const v of group.variants) {
    console.log(
      `| ${v.name} | ${median(cpu.get(v.name)!).toFixed(0)} | ${added.get(v.name)!.toFixed(0)} | ${median(wall.get(v.name)!).toFixed(0)} |`,
    );
  }
  const peer = Math.min(added.get('cockatiel')!, added.get('opossum')!);
  const mine = added.get('ours')!;
  const met = mine <= peer / 2;
  console.log(
    `\ngoal (ours adds at most half of the cheaper peer's added cost): ${met ? 'met' : 'not met'}: ours ${mine.toFixed(0)} ns = ${((mine / peer) * 100).toFixed(0)} % of ${peer.toFixed(0)} ns\n`,
  );
  return met;
}

console.log(
  `node ${process.version}, ${ROUNDS} rounds x ${CALLS} calls per variant, median round, CPU time\n`,
);
for (const group of groups) await measure(group);
for (const breaker of opossums) breaker.shutdown();
for (const breaker of Object.values(ours)) breaker.dispose();
