// createRateLimiter in one process: what it refuses to be built with, exactness under concurrency,
// the two algorithms' guarantees over time (on a stepped clock), the dynamic multiplier, events
// and stats, bounded memory, and a custom store that hangs, throws or answers nonsense.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/core/clock.js';
import { LifecycleError } from '../../../src/core/errors.js';
import { SecurityConfigError } from '../../../src/security/errors.js';
import {
  createRateLimiter,
  type LimiterDecision,
  MemoryRateLimitStore,
  type RateLimiterOptions,
} from '../../../src/security/rate-limit/index.js';
import type { RateLimitStore } from '../../../src/security/types.js';

/** A clock the test steps by hand. */
function steppedClock(): Clock & { advance(ms: number): void } {
  let now = 1_000;
  return {
    now: () => now,
    epochNow: () => 1_700_000_000_000 + now,
    advance(ms) {
      now += ms;
    },
  };
}

/** The field a SecurityConfigError names, or the error itself when it is something else. */
function fieldOf(build: () => unknown): unknown {
  try {
    build();
  } catch (error) {
    if (error instanceof SecurityConfigError) {
      expect(error.code).toBe('E_SECURITY_CONFIG');
      return error.context.field;
    }
    return error;
  }
  return 'no error';
}

async function rejectedField(pending: Promise<unknown>): Promise<unknown> {
  try {
    await pending;
  } catch (error) {
    return error instanceof SecurityConfigError ? error.context.field : error;
  }
  return 'no error';
}

describe('createRateLimiter: validation', () => {
  const base: RateLimiterOptions = { limit: 10, window: '1s' };
  const cases: [string, Partial<RateLimiterOptions> | Record<string, unknown>, string][] = [
    ['a limit of zero', { limit: 0 }, 'limit'],
    ['a negative limit', { limit: -5 }, 'limit'],
    ['a fractional limit', { limit: 2.5 }, 'limit'],
    ['a limit given as a string', { limit: '10' }, 'limit'],
    ['no limit', { limit: undefined }, 'limit'],
    ['a window of zero', { window: 0 }, 'window'],
    ['a negative window', { window: -1 }, 'window'],
    ['a window that does not parse', { window: 'soon' }, 'window'],
    ['a window under a millisecond', { window: '0.5ms' }, 'window'],
    ['an unknown algorithm', { algorithm: 'token-bucket' }, 'algorithm'],
    ['an unknown store-error mode', { onStoreError: 'open' }, 'onStoreError'],
    ['an insurance limit of zero', { insurance: { limit: 0, window: 1 } }, 'insurance.limit'],
    ['an insurance window of zero', { insurance: { limit: 1, window: 0 } }, 'insurance.window'],
    ['an insurance that is not an object', { insurance: 5 }, 'insurance'],
    ['an unknown store', { store: 'postgres' }, 'store'],
    ['a store without consume and reset', { store: {} }, 'store'],
    ['both redis and redisUrl', { redis: {}, redisUrl: 'redis://x' }, 'redis'],
    ["store 'redis' without a client or URL", { store: 'redis' }, 'redisUrl'],
    ["store 'memory' with a Redis URL", { store: 'memory', redisUrl: 'redis://x' }, 'store'],
    ['a prefix with a brace', { redisUrl: 'redis://127.0.0.1:1', prefix: 'a{b}' }, 'prefix'],
    ['a command timeout of zero', { commandTimeoutMs: 0 }, 'commandTimeoutMs'],
    ['a negative probe interval', { probeIntervalMs: -1 }, 'probeIntervalMs'],
    ['a dynamic that is not a function', { dynamic: 0.5 }, 'dynamic'],
  ];
  it.each(cases)('refuses %s, naming the field', (_label, override, field) => {
    expect(fieldOf(() => createRateLimiter({ ...base, ...override } as RateLimiterOptions))).toBe(
      field,
    );
  });

  it('refuses an algorithm beside a store of your own (it decides its own)', () => {
    const store = new MemoryRateLimitStore();
    expect(fieldOf(() => createRateLimiter({ ...base, store, algorithm: 'gcra' }))).toBe(
      'algorithm',
    );
  });

  it('rejects a call with a bad cost or key, naming it', async () => {
    const limiter = createRateLimiter(base);
    for (const cost of [0, -1, 1.5, Number.NaN, 11, '2' as unknown as number]) {
      expect(await rejectedField(limiter.consume('k', cost)), String(cost)).toBe('cost');
    }
    expect(await rejectedField(limiter.consume(''))).toBe('key');
    expect(await rejectedField(limiter.consume(42 as unknown as string))).toBe('key');
    expect((await limiter.consume('k', 10)).allowed).toBe(true);
  });

  it('rejects a call whose dynamic multiplier is out of (0, 1] or throws, naming dynamic', async () => {
    for (const value of [0, -0.5, 1.5, Number.NaN, '0.5']) {
      const limiter = createRateLimiter({ ...base, dynamic: () => value as number });
      expect(await rejectedField(limiter.consume('k')), String(value)).toBe('dynamic');
    }
    const throwing = createRateLimiter({
      ...base,
      dynamic: () => {
        throw new Error('risk service down');
      },
    });
    expect(await rejectedField(throwing.consume('k'))).toBe('dynamic');
  });
});

describe('createRateLimiter: decisions in memory', () => {
  for (const algorithm of ['gcra', 'sliding-window'] as const) {
    it(`${algorithm}: admits exactly the limit of 200 concurrent calls`, async () => {
      const limiter = createRateLimiter({ limit: 37, window: '1m', algorithm });
      const decisions = await Promise.all(
        Array.from({ length: 200 }, () => limiter.consume('hot')),
      );
      expect(decisions.filter((d) => d.allowed)).toHaveLength(37);
      expect(limiter.stats()).toMatchObject({ allowed: 37, refused: 163, storeErrors: 0 });
    });
  }

  it('gcra: over any span t, never more than limit + t × limit / window; and the full rate when saturated', () => {
    const clock = steppedClock();
    const limit = 10;
    const windowMs = 1_000;
    const limiter = createRateLimiter({ limit, window: '1s', clock });
    const admitted: number[] = [];
    // Bursts and gaps: a call every 1-60 ms for 20 windows.
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const calls: Promise<LimiterDecision>[] = [];
    const times: number[] = [];
    while (clock.now() < 21_000) {
      times.push(clock.now());
      calls.push(limiter.consume('k'));
      clock.advance(1 + Math.floor(random() * 60));
    }
    return Promise.all(calls).then((decisions) => {
      decisions.forEach((d, i) => {
        if (d.allowed) admitted.push(times[i]!);
      });
      for (let i = 0; i < admitted.length; i++) {
        for (let j = i; j < admitted.length; j++) {
          const span = admitted[j]! - admitted[i]!;
          expect(j - i + 1).toBeLessThanOrEqual(limit + (span * limit) / windowMs + 1e-9);
        }
      }
      // Saturated (a call every 30 ms on average against one per 100 ms): the rate is used.
      expect(admitted.length).toBeGreaterThanOrEqual(limit + 20 * limit - 2);
      expect(admitted.length).toBeLessThanOrEqual(limit + 20 * limit);
    });
  });

  it('sliding-window: never more than the limit in any span of the window; the limit per window when saturated', async () => {
    const clock = steppedClock();
    const limiter = createRateLimiter({
      limit: 10,
      window: '1s',
      algorithm: 'sliding-window',
      clock,
    });
    const admitted: number[] = [];
    let seed = 11;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    while (clock.now() < 21_000) {
      const at = clock.now();
      if ((await limiter.consume('k')).allowed) admitted.push(at);
      clock.advance(1 + Math.floor(random() * 60));
    }
    for (let i = 0; i < admitted.length; i++) {
      const inWindow = admitted.filter((t) => t > admitted[i]! - 1_000 && t <= admitted[i]!);
      expect(inWindow.length).toBeLessThanOrEqual(10);
    }
    expect(admitted.length).toBeGreaterThanOrEqual(20 * 10 - 10);
  });

  it('tells a refused client when to come back, and admits it then (both algorithms)', async () => {
    for (const algorithm of ['gcra', 'sliding-window'] as const) {
      const clock = steppedClock();
      const limiter = createRateLimiter({ limit: 4, window: '2s', algorithm, clock });
      for (let i = 0; i < 4; i++) await limiter.consume('k');
      clock.advance(300);
      const refused = await limiter.consume('k');
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBe(algorithm === 'gcra' ? 200 : 1_700);
      clock.advance(refused.retryAfterMs - 1);
      expect((await limiter.consume('k')).allowed, algorithm).toBe(false);
      clock.advance(1);
      expect((await limiter.consume('k')).allowed, algorithm).toBe(true);
    }
  });

  it('tightens the limit under a dynamic multiplier and relaxes it when the multiplier goes back up', async () => {
    let multiplier = 0.5;
    const seen: string[] = [];
    const limiter = createRateLimiter({
      limit: 10,
      window: '1h',
      dynamic: (key) => {
        seen.push(key);
        return multiplier;
      },
    });
    const burst = async (n: number) => {
      const decisions = await Promise.all(Array.from({ length: n }, () => limiter.consume('ip')));
      return decisions;
    };
    const tight = await burst(20);
    expect(tight.filter((d) => d.allowed)).toHaveLength(5);
    expect(tight[0]).toMatchObject({ limit: 5, remaining: 4 });
    multiplier = 1;
    const relaxed = await burst(20);
    expect(relaxed.filter((d) => d.allowed)).toHaveLength(5);
    expect(relaxed[0]).toMatchObject({ limit: 10, remaining: 4 });
    multiplier = 0.01;
    const floor = await limiter.consume('other');
    expect(floor).toMatchObject({ allowed: true, limit: 1, remaining: 0 });
    expect((await limiter.consume('other')).allowed).toBe(false);
    expect(seen.slice(0, 2)).toEqual(['ip', 'ip']);
  });

  it('emits every decision and counts them', async () => {
    const limiter = createRateLimiter({ limit: 2, window: '1m' });
    const events: { key: string; cost: number; allowed: boolean }[] = [];
    limiter.on('decision', ({ key, cost, decision }) =>
      events.push({ key, cost, allowed: decision.allowed }),
    );
    await limiter.consume('a');
    await limiter.consume('a', 2);
    await limiter.consume('b', 2);
    expect(events).toEqual([
      { key: 'a', cost: 1, allowed: true },
      { key: 'a', cost: 2, allowed: false },
      { key: 'b', cost: 2, allowed: true },
    ]);
    expect(limiter.stats()).toEqual({
      allowed: 2,
      refused: 1,
      storeErrors: 0,
      outages: 0,
      storeDown: false,
      onInsurance: false,
      insuranceKeys: 0,
    });
  });

  it('forgets a key on reset', async () => {
    const limiter = createRateLimiter({ limit: 1, window: '1h' });
    await limiter.consume('login:ada');
    expect((await limiter.consume('login:ada')).allowed).toBe(false);
    await limiter.reset('login:ada');
    expect((await limiter.consume('login:ada')).allowed).toBe(true);
  });

  it('holds only the keys of the last two windows: 20,000 keys, then 20,000 others', async () => {
    const clock = steppedClock();
    for (const algorithm of ['gcra', 'sliding-window'] as const) {
      const store = new MemoryRateLimitStore({ clock, algorithm });
      for (let i = 0; i < 20_000; i++) store.decide(`old-${i}`, 5, 100, 1);
      expect(store.size).toBe(20_000);
      clock.advance(99);
      for (let i = 0; i < 3; i++) store.decide('kept', 3, 100, 1);
      clock.advance(1);
      for (let i = 0; i < 20_000; i++) store.decide(`new-${i}`, 5, 100, 1);
      clock.advance(50);
      // Used just before the generation changed: its count is still there.
      expect(store.decide('kept', 3, 100, 3).allowed, algorithm).toBe(false);
      clock.advance(50);
      store.decide('new-0', 5, 100, 1);
      expect(store.size, algorithm).toBeLessThanOrEqual(20_001);
      clock.advance(250);
      store.decide('late', 5, 100, 1);
      expect(store.size).toBe(1);
      clock.advance(150);
      expect(store.prune()).toBe(1);
      expect(store.size).toBe(0);
    }
  });

  it('refuses calls after close(), and closes idempotently', async () => {
    const limiter = createRateLimiter({ limit: 1, window: '1s' });
    await Promise.all([limiter.close(), limiter.close()]);
    await expect(limiter.consume('k')).rejects.toBeInstanceOf(LifecycleError);
    await expect(limiter.reset('k')).rejects.toBeInstanceOf(LifecycleError);
  });
});

/** A store of one's own whose behaviour the test switches. */
function switchable() {
  const inner = new MemoryRateLimitStore();
  const state = {
    mode: 'ok' as 'ok' | 'hang' | 'throw' | 'reject' | 'nonsense',
    calls: 0,
    closed: 0,
  };
  const store: RateLimitStore = {
    consume(key, rule) {
      state.calls += 1;
      switch (state.mode) {
        case 'hang':
          return new Promise(() => {});
        case 'throw':
          throw new Error('store exploded');
        case 'reject':
          return Promise.reject(new Error('store said no'));
        case 'nonsense':
          return Promise.resolve({ allowed: 'yes' } as never);
        default:
          return inner.consume(key, rule);
      }
    },
    reset: (key) => (state.mode === 'ok' ? inner.reset(key) : Promise.reject(new Error('down'))),
    async close() {
      state.closed += 1;
    },
  };
  return { store, state };
}

describe('createRateLimiter: a store of your own that fails', () => {
  for (const mode of ['hang', 'throw', 'reject', 'nonsense'] as const) {
    it(`decides through the insurance limiter when the store ${mode}s, within the command timeout`, async () => {
      const { store, state } = switchable();
      const limiter = createRateLimiter({
        limit: 100,
        window: '1m',
        store,
        commandTimeoutMs: 50,
        insurance: { limit: 3, window: '1m' },
      });
      const errors: unknown[] = [];
      limiter.on('store-error', ({ error }) => errors.push(error));
      state.mode = mode;
      const started = Date.now();
      const decisions = await Promise.all(Array.from({ length: 10 }, () => limiter.consume('k')));
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
      expect(new Set(decisions.map((d) => d.source))).toEqual(new Set(['insurance']));
      expect(errors).toHaveLength(1);
      expect(limiter.stats()).toMatchObject({ storeDown: true, onInsurance: true, outages: 1 });
      // Later calls do not wait for the store at all.
      const again = Date.now();
      await limiter.consume('k');
      expect(Date.now() - again).toBeLessThan(40);
    });
  }

  it('probes the store with an admitted call and goes back to it once it answers', async () => {
    const { store, state } = switchable();
    const limiter = createRateLimiter({
      limit: 100,
      window: '1m',
      store,
      commandTimeoutMs: 50,
      probeIntervalMs: 100,
    });
    const recovered: number[] = [];
    limiter.on('store-recovered', ({ downMs }) => recovered.push(downMs));
    state.mode = 'reject';
    await limiter.consume('k');
    const callsWhileDown = state.calls;
    for (let i = 0; i < 20; i++) await limiter.consume('k');
    expect(state.calls).toBe(callsWhileDown);
    state.mode = 'ok';
    await sleep(120);
    await limiter.consume('k');
    await sleep(10);
    expect(recovered).toHaveLength(1);
    expect(limiter.stats()).toMatchObject({
      storeDown: false,
      onInsurance: false,
      insuranceKeys: 0,
    });
    expect((await limiter.consume('k')).source).toBe('store');
  });

  it("refuses every call while the store fails with onStoreError 'closed', then lets the store decide again", async () => {
    const { store, state } = switchable();
    const limiter = createRateLimiter({
      limit: 100,
      window: '1m',
      store,
      onStoreError: 'closed',
      commandTimeoutMs: 50,
      probeIntervalMs: 100,
    });
    state.mode = 'hang';
    const decisions = await Promise.all(Array.from({ length: 5 }, () => limiter.consume('k')));
    expect(decisions.map((d) => [d.allowed, d.source])).toEqual(
      Array.from({ length: 5 }, () => [false, 'closed']),
    );
    expect(decisions[0]!.retryAfterMs).toBe(100);
    expect(limiter.stats()).toMatchObject({ storeDown: true, onInsurance: false });
    state.mode = 'ok';
    await sleep(120);
    const back = await limiter.consume('k');
    expect(back).toMatchObject({ allowed: true, source: 'store' });
    expect(limiter.stats().storeDown).toBe(false);
  });

  it('never closes a store it was given; reset never throws because of the store', async () => {
    const { store, state } = switchable();
    const limiter = createRateLimiter({ limit: 1, window: '1m', store, commandTimeoutMs: 50 });
    state.mode = 'reject';
    await expect(limiter.reset('k')).resolves.toBeUndefined();
    expect(limiter.stats().storeErrors).toBe(1);
    await limiter.close();
    expect(state.closed).toBe(0);
  });
});
