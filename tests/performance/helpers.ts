import {
  createEnterprise,
  type Enterprise,
  type EnterpriseOptions,
  type LoggerLike,
  type PerformanceMonitor,
  type PerformanceOptions,
} from '../../src/index.js';
import {
  type FakeClock,
  fakeClock,
  type LogCall,
  recordingLogger,
} from '../support/test-doubles.js';

export { EPOCH, type FakeClock, fakeClock } from '../support/test-doubles.js';

export interface Setup {
  enterprise: Enterprise;
  monitor: PerformanceMonitor;
  clock: FakeClock;
}

/**
 * An isolated instance on a fake clock, with system metrics off and an empty environment (so a
 * variable set on the machine running the tests cannot change the defaults).
 */
export function setup(
  options: Omit<EnterpriseOptions, 'performance'> & { performance?: PerformanceOptions } = {},
  start = 0,
): Setup {
  const clock = fakeClock(start);
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    clock,
    ...options,
    performance: { systemMetrics: false, ...options.performance },
  });
  return { enterprise, monitor: enterprise.performance, clock };
}

/** A function that takes `ms` of fake time and returns `value`. */
export function takes<T>(clock: FakeClock, ms: number, value?: T): () => T {
  return () => {
    clock.advance(ms);
    return value as T;
  };
}

/** A function that takes `ms` of fake time and throws `error`. */
export function failsAfter(clock: FakeClock, ms: number, error: unknown): () => never {
  return () => {
    clock.advance(ms);
    throw error;
  };
}

/** Runs one call of `name` lasting `ms` of fake time through `monitor.context`. */
export function callFor(monitor: PerformanceMonitor, clock: FakeClock, name: string, ms: number) {
  monitor.context(name, takes(clock, ms));
}

/** One line a {@link capturingLogger} received. */
export type LogLine = LogCall;

/** A pino-shaped host logger that keeps every line (without `child`, so bindings are merged). */
export function capturingLogger(): LoggerLike & { lines: LogLine[] } {
  const logger = recordingLogger({ withChild: false });
  return Object.assign(logger, { lines: logger.calls });
}

/** A small seeded PRNG (mulberry32): the same data sets on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The exact value at `percentile` of `sorted` (nearest rank, as HdrHistogram ranks), computed in
 * integers so that 99.9 % of 1000 is rank 999, not 1000.
 */
export function exactPercentile(sorted: readonly number[], percentile: number): number {
  const milli = Math.round(percentile * 1000);
  const rank = Math.max(1, Math.ceil((milli * sorted.length) / 100_000));
  return sorted[rank - 1]!;
}

/** Every number in `value`, recursively, with its path. */
export function numbersIn(value: unknown, path = '$'): { path: string; value: number }[] {
  if (typeof value === 'number') return [{ path, value }];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => numbersIn(item, `${path}.${key}`));
}
