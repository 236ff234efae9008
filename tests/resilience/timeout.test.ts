import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitTimeoutError, circuitBreaker } from '../../src/resilience/index.js';

/** Every unhandled rejection of the process while a test runs. */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  // A late rejection would be reported on a later turn of the event loop.
  await sleep(20);
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('per-call timeout', () => {
  it('rejects with a CircuitTimeoutError after timeoutMs, counted as a failure', async () => {
    const breaker = circuitBreaker('slow', {
      timeoutMs: 30,
      consecutiveFailures: 2,
      registry: false,
    });
    const timeouts = vi.fn();
    breaker.on('timeout', timeouts);
    const started = performance.now();
    const error = await breaker.execute(() => new Promise(() => {})).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(CircuitTimeoutError);
    expect(error).toMatchObject({ code: 'E_CIRCUIT_TIMEOUT', breaker: 'slow', timeoutMs: 30 });
    expect(elapsed).toBeGreaterThanOrEqual(25);
    expect(elapsed).toBeLessThan(1_000);
    expect(timeouts).toHaveBeenCalledWith({ breaker: 'slow', timeoutMs: 30 });
    await breaker.execute(() => new Promise(() => {})).catch(() => {});
    expect(breaker.state).toBe('open');
    expect(breaker.snapshot().counts).toMatchObject({ timeout: 2, failure: 0 });
  });

  it('handles the late rejection of a timed-out call: never unhandled, never counted again', async () => {
    const breaker = circuitBreaker('late', { timeoutMs: 10, registry: false });
    let fail!: (error: Error) => void;
    const call = breaker.execute(() => new Promise((_, reject) => (fail = reject)));
    await expect(call).rejects.toBeInstanceOf(CircuitTimeoutError);
    fail(new Error('late failure'));
    await sleep(5);
    expect(breaker.snapshot().counts).toMatchObject({ timeout: 1, failure: 0 });
  });

  it('a late success of a timed-out call is dropped', async () => {
    const breaker = circuitBreaker('late-ok', { timeoutMs: 10, registry: false });
    let finish!: (value: string) => void;
    const call = breaker.execute(() => new Promise<string>((resolve) => (finish = resolve)));
    await expect(call).rejects.toBeInstanceOf(CircuitTimeoutError);
    finish('too late');
    await sleep(5);
    expect(breaker.snapshot().counts).toMatchObject({ timeout: 1, success: 0 });
  });

  it('aborts the signal of an fn that declares it, with the timeout error', async () => {
    const breaker = circuitBreaker('abortable', { timeoutMs: 10, registry: false });
    let seen: AbortSignal | undefined;
    await expect(
      breaker.execute(
        (signal) =>
          new Promise((_, reject) => {
            seen = signal;
            signal.addEventListener('abort', () => reject(signal.reason));
          }),
      ),
    ).rejects.toBeInstanceOf(CircuitTimeoutError);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(CircuitTimeoutError);
  });

  it('calls that settle in time are answered as they settle, many at once', async () => {
    const breaker = circuitBreaker('many', { timeoutMs: 200, registry: false });
    const values = await Promise.all(
      Array.from({ length: 2_000 }, (_, i) =>
        breaker.execute(() => (i % 2 === 0 ? Promise.resolve(i) : sleep(1).then(() => i))),
      ),
    );
    expect(values[1_999]).toBe(1_999);
    expect(breaker.snapshot().counts).toMatchObject({ success: 2_000, timeout: 0 });
  });

  it('times out each of many hung calls within a timer tick of its own deadline', async () => {
    const breaker = circuitBreaker('hung', {
      timeoutMs: 40,
      registry: false,
      consecutiveFailures: 1_000,
    });
    const durations: number[] = [];
    const batch = () =>
      Array.from({ length: 20 }, () => {
        const started = performance.now();
        return breaker
          .execute(() => new Promise(() => {}))
          .catch(() => durations.push(performance.now() - started));
      });
    const first = batch();
    await sleep(15);
    const second = batch();
    await Promise.all([...first, ...second]);
    expect(durations).toHaveLength(40);
    for (const ms of durations) {
      expect(ms).toBeGreaterThanOrEqual(35);
      expect(ms).toBeLessThan(500);
    }
  });

  it("rejects with the caller's abort reason at once; the breaker still counts how fn ends", async () => {
    const breaker = circuitBreaker('caller', { registry: false, consecutiveFailures: 1 });
    const controller = new AbortController();
    let finish!: () => void;
    const call = breaker.execute(
      () => new Promise<void>((resolve) => (finish = resolve)),
      controller.signal,
    );
    controller.abort(new Error('client gone'));
    await expect(call).rejects.toThrow('client gone');
    finish();
    await sleep(1);
    expect(breaker.snapshot().counts).toMatchObject({ success: 1 });
    await expect(breaker.execute(async () => 1, controller.signal)).rejects.toThrow('client gone');
  });

  it('a rejection caused by the caller aborting is not a failure of the dependency', async () => {
    const breaker = circuitBreaker('aborted', { registry: false, consecutiveFailures: 1 });
    const controller = new AbortController();
    const call = breaker.execute(
      (signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      controller.signal,
    );
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().counts).toMatchObject({ failure: 0, ignored: 1 });
  });

  it('a fallback answers a timeout', async () => {
    const breaker = circuitBreaker('fallback', {
      timeoutMs: 10,
      registry: false,
      fallback: (error) => (error instanceof CircuitTimeoutError ? 'cached' : 'other'),
    });
    await expect(breaker.execute(() => new Promise<string>(() => {}))).resolves.toBe('cached');
  });

  it('dispose() stops the timer: the process is free to exit', () => {
    vi.useFakeTimers();
    try {
      const breaker = circuitBreaker('dispose', { timeoutMs: 60_000, registry: false });
      void breaker.execute(() => new Promise(() => {}));
      expect(vi.getTimerCount()).toBe(1);
      breaker.dispose();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
