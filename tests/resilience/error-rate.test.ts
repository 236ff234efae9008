import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitOpenError, circuitBreaker } from '../../src/resilience/index.js';

const boom = () => Promise.reject(new Error('boom'));
const ok = async () => 'ok';

async function run(
  breaker: ReturnType<typeof circuitBreaker>,
  successes: number,
  failures: number,
) {
  for (let i = 0; i < successes; i++) await breaker.execute(ok);
  for (let i = 0; i < failures; i++) await breaker.execute(boom).catch(() => {});
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('error rate over a sliding window', () => {
  const policy = { threshold: 0.5, windowMs: 10_000, minimumCalls: 10, buckets: 10 };

  it('does not open on fewer calls than minimumCalls, whatever their error rate', async () => {
    const breaker = circuitBreaker('rate', { registry: false, errorRate: policy });
    await run(breaker, 0, 9);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().window).toEqual({ calls: 9, failures: 9, errorRate: 1 });
    await run(breaker, 0, 1);
    expect(breaker.state).toBe('open');
    breaker.dispose();
  });

  it('opens once the failed share reaches the threshold', async () => {
    const breaker = circuitBreaker('rate', { registry: false, errorRate: policy });
    const opened = vi.fn();
    breaker.on('open', opened);
    await run(breaker, 10, 9);
    expect(breaker.state).toBe('closed'); // 9 of 19
    await run(breaker, 0, 1);
    expect(breaker.state).toBe('open'); // 10 of 20
    expect(opened).toHaveBeenCalledWith(
      expect.objectContaining({ reason: 'error-rate', errorRate: 0.5 }),
    );
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    breaker.dispose();
  });

  it('forgets calls older than the window', async () => {
    const breaker = circuitBreaker('rate', { registry: false, errorRate: policy });
    await run(breaker, 0, 8);
    vi.advanceTimersByTime(10_000);
    expect(breaker.snapshot().window).toEqual({ calls: 0, failures: 0, errorRate: null });
    await run(breaker, 10, 4);
    expect(breaker.state).toBe('closed');
    breaker.dispose();
  });

  it('slides slice by slice: old failures leave while recent ones stay', async () => {
    const breaker = circuitBreaker('rate', { registry: false, errorRate: policy });
    await run(breaker, 0, 6); // slice 0
    vi.advanceTimersByTime(5_000);
    await run(breaker, 6, 0); // slice 5
    expect(breaker.snapshot().window).toMatchObject({ calls: 12, failures: 6 });
    vi.advanceTimersByTime(5_000); // slice 0 drops out
    expect(breaker.snapshot().window).toMatchObject({ calls: 6, failures: 0 });
    await run(breaker, 0, 5); // 5 of 11 now
    expect(breaker.state).toBe('closed');
    await run(breaker, 0, 1); // 6 of 12
    expect(breaker.state).toBe('open');
    breaker.dispose();
  });

  it('with both policies, whichever trips first opens it', async () => {
    const breaker = circuitBreaker('both', {
      registry: false,
      consecutiveFailures: 3,
      errorRate: { threshold: 0.2, minimumCalls: 20 },
    });
    await run(breaker, 0, 3);
    expect(breaker.snapshot().lastChange?.reason).toBe('consecutive-failures');
    breaker.close();
    await run(breaker, 15, 0);
    for (let i = 0; i < 5; i++) {
      await run(breaker, 1, 1);
    }
    expect(breaker.snapshot().lastChange?.reason).toBe('error-rate');
    breaker.dispose();
  });

  it('keeps no timer while the window is empty', async () => {
    const breaker = circuitBreaker('idle', { registry: false, errorRate: policy });
    expect(vi.getTimerCount()).toBe(0);
    await run(breaker, 1, 0);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(vi.getTimerCount()).toBe(0);
    await run(breaker, 1, 0);
    expect(vi.getTimerCount()).toBe(1);
    breaker.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a closing starts the window over', async () => {
    const breaker = circuitBreaker('reset', { registry: false, errorRate: policy });
    await run(breaker, 0, 10);
    expect(breaker.state).toBe('open');
    breaker.close();
    expect(breaker.snapshot().window).toEqual({ calls: 0, failures: 0, errorRate: null });
    breaker.dispose();
  });
});
