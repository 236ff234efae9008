import { describe, expect, it } from 'vitest';
import { CounterWindow } from '../../../src/alerts/sources/counter-window.js';
import { fakeClock } from '../../support/test-doubles.js';

const counters = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('CounterWindow', () => {
  it('answers the increase since start first, then over the rolling window', () => {
    const clock = fakeClock();
    const window = new CounterWindow(60_000, clock);
    expect(window.increase(counters({ a: 10 }))).toEqual(counters({ a: 10 }));
    clock.advance(30_000);
    // The window is still filling: counted from the first call.
    expect(window.increase(counters({ a: 25 }))).toEqual(counters({ a: 15 }));
    clock.advance(40_000);
    // 70 s after the first call: counted from it, the newest sample a window old.
    expect(window.increase(counters({ a: 40, b: 2 }))).toEqual(counters({ a: 30, b: 2 }));
    clock.advance(30_000);
    // 100 s: the sample at 30 s is the newest one at least a minute old.
    expect(window.increase(counters({ a: 41, b: 2 }))).toEqual(counters({ a: 16, b: 2 }));
  });

  it('counts a counter that went down (its owner was rebuilt) from zero', () => {
    const clock = fakeClock();
    const window = new CounterWindow(60_000, clock);
    window.increase(counters({ a: 100 }));
    clock.advance(10_000);
    expect(window.increase(counters({ a: 7 }))).toEqual(counters({ a: 7 }));
  });

  it('still covers about one minute when called often, for a long time', () => {
    const clock = fakeClock();
    const window = new CounterWindow(60_000, clock);
    for (let i = 0; i < 10_000; i++) {
      clock.advance(100);
      window.increase(counters({ a: i }));
    }
    // 1,000 s of calls every 100 ms; the answer still covers about one minute.
    const increase = window.increase(counters({ a: 10_000 })).get('a');
    expect(increase).toBeGreaterThanOrEqual(600);
    expect(increase).toBeLessThanOrEqual(660);
  });
});
