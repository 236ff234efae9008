import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { CircuitOpenError, circuitBreaker } from '../../src/resilience/index.js';

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return { now: () => now, epochNow: () => 1_700_000_000_000 + now, advance: (ms) => (now += ms) };
}

/** A dependency whose calls wait until the test settles them. */
function gatedDependency() {
  const pending: { resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  const call = vi.fn(
    () => new Promise<string>((resolve, reject) => pending.push({ resolve, reject })),
  );
  return { call, pending };
}

async function openBreaker(options: Parameters<typeof circuitBreaker>[1] = {}) {
  const clock = fakeClock();
  const breaker = circuitBreaker('dep', {
    registry: false,
    clock,
    consecutiveFailures: 1,
    halfOpenAfterMs: 1_000,
    ...options,
  });
  await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
  expect(breaker.state).toBe('open');
  clock.advance(1_000);
  return { clock, breaker };
}

describe('half-open: exactly one trial call', () => {
  it.each([
    ['succeeds', 'closed'],
    ['fails', 'open'],
  ] as const)(
    'under 100 concurrent callers, one call goes through; when it %s the circuit is %s',
    async (outcome, state) => {
      const { breaker } = await openBreaker();
      const dependency = gatedDependency();
      const halfOpen = vi.fn();
      const rejected = vi.fn();
      breaker.on('half-open', halfOpen).on('rejected', rejected);

      const calls = Array.from({ length: 100 }, () => breaker.execute(dependency.call));
      const settled = await Promise.allSettled(calls.slice(1));
      // The 99 others were turned away before the trial settled, without reaching the dependency.
      expect(dependency.call).toHaveBeenCalledTimes(1);
      expect(settled.every((s) => s.status === 'rejected')).toBe(true);
      for (const s of settled) {
        const error = (s as PromiseRejectedResult).reason;
        expect(error).toBeInstanceOf(CircuitOpenError);
        expect(error).toMatchObject({ code: 'E_CIRCUIT_OPEN', state: 'half-open' });
      }
      expect(breaker.state).toBe('half-open');
      expect(halfOpen).toHaveBeenCalledTimes(1);
      expect(rejected).toHaveBeenCalledTimes(99);

      if (outcome === 'succeeds') {
        dependency.pending[0]!.resolve('fine');
        await expect(calls[0]).resolves.toBe('fine');
      } else {
        dependency.pending[0]!.reject(new Error('still down'));
        await expect(calls[0]).rejects.toThrow('still down');
      }
      expect(breaker.state).toBe(state);
      expect(breaker.snapshot().counts.rejected).toBe(99);
    },
  );

  it('callers arriving while the trial runs, at any time, are all rejected fast', async () => {
    const { clock, breaker } = await openBreaker();
    const dependency = gatedDependency();
    const trial = breaker.execute(dependency.call);
    for (let i = 0; i < 10; i++) {
      clock.advance(50);
      await expect(breaker.execute(dependency.call)).rejects.toBeInstanceOf(CircuitOpenError);
    }
    expect(dependency.call).toHaveBeenCalledTimes(1);
    dependency.pending[0]!.resolve('ok');
    await trial;
    await expect(breaker.execute(async () => 'after')).resolves.toBe('after');
  });

  it('a trial that never settles (no timeoutMs) is given up after halfOpenAfterMs: the circuit opens again', async () => {
    const { clock, breaker } = await openBreaker();
    const opened = vi.fn();
    breaker.on('open', opened);
    void breaker.execute(() => new Promise(() => {}));
    clock.advance(999);
    await expect(breaker.execute(async () => 1)).rejects.toMatchObject({ state: 'half-open' });
    clock.advance(1);
    await expect(breaker.execute(async () => 1)).rejects.toMatchObject({ state: 'open' });
    expect(opened).toHaveBeenCalledWith(expect.objectContaining({ reason: 'trial-hung' }));
    clock.advance(1_000);
    await expect(breaker.execute(async () => 'recovered')).resolves.toBe('recovered');
    expect(breaker.state).toBe('closed');
  });

  it('with timeoutMs, a trial that times out opens the circuit again', async () => {
    const { breaker } = await openBreaker({ timeoutMs: 20 });
    await expect(breaker.execute(() => new Promise(() => {}))).rejects.toMatchObject({
      code: 'E_CIRCUIT_TIMEOUT',
    });
    expect(breaker.state).toBe('open');
    expect(breaker.snapshot().lastChange).toMatchObject({ reason: 'trial-failed' });
  });

  it('a trial its caller aborted gives no verdict: the next caller makes the trial', async () => {
    const { breaker } = await openBreaker();
    const controller = new AbortController();
    const trial = breaker.execute(
      (signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      controller.signal,
    );
    controller.abort(new Error('client went away'));
    await expect(trial).rejects.toThrow('client went away');
    await sleep(0);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(async () => 'second trial')).resolves.toBe('second trial');
    expect(breaker.state).toBe('closed');
  });

  it('manual close() during a trial ends it: the trial outcome no longer decides', async () => {
    const { breaker } = await openBreaker();
    const dependency = gatedDependency();
    const trial = breaker.execute(dependency.call);
    breaker.close();
    dependency.pending[0]!.reject(new Error('late'));
    await expect(trial).rejects.toThrow('late');
    expect(breaker.state).toBe('closed');
  });
});
