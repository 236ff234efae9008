import type { Clock } from '../../../src/core/clock.js';
import { createDefaultLogger, type Logger } from '../../../src/core/logger.js';
import { createEnterprise, type PerformanceMonitor } from '../../../src/index.js';

/**
 * A clock the test moves by hand whose wall time starts at the beginning of a recent minute
 * (`minutesBack` minutes ago), so stores that expire keys on a real server keep what is written.
 */
export interface HistoryClock extends Clock {
  t: number;
  /** The wall time the clock started at: the start of a minute. */
  readonly start: number;
  advance(ms: number): void;
  /** Moves to `seconds` into minute `n` (0 is the starting minute). */
  at(n: number, seconds?: number): void;
}

export function historyClock(minutesBack = 30): HistoryClock {
  const start = Math.floor(Date.now() / 60_000) * 60_000 - minutesBack * 60_000;
  const clock: HistoryClock = {
    t: 0,
    start,
    now: () => clock.t,
    epochNow: () => start + clock.t,
    advance: (ms) => {
      clock.t += ms;
    },
    at: (n, seconds = 0) => {
      clock.t = n * 60_000 + seconds * 1000;
    },
  };
  return clock;
}

/** A performance monitor of its own on `clock`, system metrics off. */
export function monitorOn(clock: Clock): PerformanceMonitor {
  return createEnterprise({
    logLevel: 'silent',
    env: {},
    clock,
    performance: { systemMetrics: false },
  }).performance;
}

export const silent: Logger = createDefaultLogger('silent');

/** Durations in eighths of a millisecond, exact in binary: a fake clock subtracts them exactly. */
export function eighths(n: number, medianMs: number, seed: number): number[] {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return Array.from({ length: n }, () => {
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    return Math.max(1, Math.round(medianMs * Math.exp(normal) * 8)) / 8;
  });
}

/** The exact nearest-rank percentile. */
export function exactPercentile(samples: readonly number[], percentile: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1)]!;
}
