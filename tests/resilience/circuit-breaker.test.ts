import { describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { EnterpriseError } from '../../src/index.js';
import {
  type BreakerEvents,
  BreakerRegistry,
  CircuitConfigError,
  CircuitOpenError,
  circuitBreaker,
} from '../../src/resilience/index.js';

/** A clock the test moves by hand. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 1_000;
  return {
    now: () => now,
    epochNow: () => 1_700_000_000_000 + now,
    advance(ms) {
      now += ms;
    },
  };
}

const boom = () => Promise.reject(new Error('boom'));
const ok = async () => 'ok';

/** A breaker on a fake clock, unlisted, with every event recorded in order. */
function setup(options: Parameters<typeof circuitBreaker>[1] = {}) {
  const clock = fakeClock();
  const breaker = circuitBreaker('dep', { registry: false, clock, ...options });
  const events: string[] = [];
  for (const name of ['open', 'half-open', 'close', 'rejected', 'failure', 'success'] as const) {
    breaker.on(name, () => events.push(name));
  }
  return { clock, breaker, events };
}

async function failTimes(breaker: { execute: (fn: typeof boom) => Promise<unknown> }, n: number) {
  for (let i = 0; i < n; i++) await breaker.execute(boom).catch(() => {});
}

describe('circuitBreaker: the state machine', () => {
  it('opens after consecutive failures, rejects at once without calling, and closes after a good trial', async () => {
    const { clock, breaker, events } = setup({ consecutiveFailures: 3, halfOpenAfterMs: 1_000 });
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');

    const fn = vi.fn(ok);
    const rejected = await breaker.execute(fn).catch((error: unknown) => error);
    expect(fn).not.toHaveBeenCalled();
    expect(rejected).toBeInstanceOf(CircuitOpenError);
    expect(rejected).toBeInstanceOf(EnterpriseError);
    expect(rejected).toMatchObject({ code: 'E_CIRCUIT_OPEN', breaker: 'dep', state: 'open' });
    expect((rejected as CircuitOpenError).context.retryAt).toBe(1_700_000_000_000 + 1_000 + 1_000);

    clock.advance(999);
    await expect(breaker.execute(fn)).rejects.toBeInstanceOf(CircuitOpenError);
    clock.advance(1);
    await expect(breaker.execute(fn)).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(breaker.state).toBe('closed');
    expect(events).toEqual([
      'failure',
      'failure',
      'failure',
      'open',
      'rejected',
      'rejected',
      'half-open',
      'close',
      'success',
    ]);
    expect(breaker.snapshot()).toMatchObject({
      state: 'closed',
      counts: { success: 1, failure: 3, rejected: 2, timeout: 0, ignored: 0, fallback: 0 },
      lastChange: { from: 'half-open', to: 'closed', reason: 'trial-succeeded' },
      retryAt: null,
    });
  });

  it('a success resets the count of failures in a row', async () => {
    const { breaker } = setup({ consecutiveFailures: 3 });
    await failTimes(breaker, 2);
    await breaker.execute(ok);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().consecutiveFailures).toBe(2);
  });

  it('a failed trial opens it again for another full period', async () => {
    const { clock, breaker } = setup({ consecutiveFailures: 1, halfOpenAfterMs: 500 });
    const opened: BreakerEvents['open'][0][] = [];
    breaker.on('open', (event) => opened.push(event));
    await failTimes(breaker, 1);
    clock.advance(500);
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(breaker.state).toBe('open');
    expect(opened.map((e) => e.reason)).toEqual(['consecutive-failures', 'trial-failed']);
    expect(opened[1]!.retryAt).toBe(clock.epochNow() + 500);
    clock.advance(499);
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    clock.advance(1);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });

  it('counts a sync throw as a failure and returns a rejected promise', async () => {
    const { breaker } = setup({ consecutiveFailures: 1 });
    const call = breaker.execute(() => {
      throw new Error('sync');
    });
    expect(call).toBeInstanceOf(Promise);
    await expect(call).rejects.toThrow('sync');
    expect(breaker.state).toBe('open');
  });

  it('passes plain values through and hands fn a signal that never aborts', async () => {
    const { breaker } = setup();
    let seen: AbortSignal | undefined;
    await expect(
      breaker.execute((signal) => {
        seen = signal;
        return 42;
      }),
    ).resolves.toBe(42);
    expect(seen).toBeInstanceOf(AbortSignal);
    expect(seen!.aborted).toBe(false);
  });

  it('late outcomes of calls started before the circuit opened do not decide the new state', async () => {
    // Ten calls fail together: the fifth opens the circuit, the five after it are only counted
    // (they neither re-open it nor push the trial further away).
    const { clock, breaker, events } = setup({ consecutiveFailures: 5, halfOpenAfterMs: 1_000 });
    const gates: (() => void)[] = [];
    const calls = Array.from({ length: 10 }, () =>
      breaker
        .execute(
          () =>
            new Promise((_, reject) =>
              gates.push(() => reject(new Error('late'))),
            ) as Promise<void>,
        )
        .catch(() => {}),
    );
    for (const open of gates) open();
    await Promise.all(calls);
    expect(events.filter((e) => e === 'open')).toHaveLength(1);
    expect(breaker.snapshot().counts.failure).toBe(10);
    clock.advance(1_000);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('a late success from before the opening does not close it', async () => {
    const { breaker } = setup({ consecutiveFailures: 1 });
    let finish!: () => void;
    const slow = breaker.execute(() => new Promise<void>((resolve) => (finish = resolve)));
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    finish();
    await slow;
    expect(breaker.state).toBe('open');
  });
});

describe('circuitBreaker: isFailure and fallback', () => {
  class NotFound extends Error {}

  it('rethrows errors isFailure declines, unchanged and uncounted', async () => {
    const { breaker, events } = setup({
      consecutiveFailures: 1,
      isFailure: (error) => !(error instanceof NotFound),
    });
    const error = new NotFound('no such user');
    await expect(breaker.execute(() => Promise.reject(error))).rejects.toBe(error);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().counts).toMatchObject({ ignored: 1, failure: 0 });
    expect(events).toEqual([]);
  });

  it('treats an isFailure that throws as "it is a failure"', async () => {
    const { breaker } = setup({
      consecutiveFailures: 1,
      isFailure: () => {
        throw new Error('bad filter');
      },
    });
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(breaker.state).toBe('open');
  });

  it('answers failures and rejections with the fallback, never errors isFailure declines', async () => {
    const seen: unknown[] = [];
    const { breaker } = setup({
      consecutiveFailures: 1,
      isFailure: (error) => !(error instanceof NotFound),
      fallback: (error) => {
        seen.push(error);
        return 'fallback';
      },
    });
    await expect(breaker.execute(() => Promise.reject(new NotFound()))).rejects.toBeInstanceOf(
      NotFound,
    );
    await expect(breaker.execute(boom)).resolves.toBe('fallback');
    await expect(breaker.execute(ok)).resolves.toBe('fallback');
    expect(seen[0]).toBeInstanceOf(Error);
    expect(seen[1]).toBeInstanceOf(CircuitOpenError);
    expect(breaker.snapshot().counts).toMatchObject({ fallback: 2, rejected: 1, failure: 1 });
  });

  it('rejects with what an async fallback rejects with', async () => {
    const { breaker } = setup({
      fallback: async () => {
        throw new Error('fallback down too');
      },
    });
    await expect(breaker.execute(boom)).rejects.toThrow('fallback down too');
  });
});

describe('circuitBreaker: manual control', () => {
  it('open() and close() change the state at once', async () => {
    const { breaker, events } = setup();
    breaker.open();
    expect(breaker.state).toBe('open');
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    breaker.close();
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(events).toEqual(['open', 'rejected', 'close', 'success']);
    expect(breaker.snapshot().lastChange).toMatchObject({ to: 'closed', reason: 'manual' });
  });

  it('isolate() holds it open past the period until every hold is released', async () => {
    const { clock, breaker } = setup({ halfOpenAfterMs: 100 });
    const first = breaker.isolate();
    const second = breaker.isolate();
    expect(breaker.snapshot()).toMatchObject({ state: 'open', isolated: true, retryAt: null });
    clock.advance(10_000);
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    first();
    first(); // a second release of the same hold does nothing
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    second();
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });

  it('wrap() keeps this and the arguments', async () => {
    const { breaker } = setup();
    const service = {
      base: 10,
      add: breaker.wrap(async function (this: { base: number }, n: number) {
        return this.base + n;
      }),
    };
    await expect(service.add(5)).resolves.toBe(15);
  });
});

describe('circuitBreaker: options', () => {
  const invalid = (options: Record<string, unknown>, option: string) => {
    try {
      circuitBreaker('payments', { registry: false, ...options } as never);
    } catch (error) {
      expect(error).toBeInstanceOf(CircuitConfigError);
      expect(error).toMatchObject({
        code: 'E_CIRCUIT_CONFIG',
        context: { breaker: 'payments', option },
      });
      expect((error as Error).message).toContain(`circuit "payments": ${option}=`);
      return;
    }
    throw new Error(`expected a CircuitConfigError for ${option}`);
  };

  it('names the invalid option', () => {
    invalid({ consecutiveFailures: 0 }, 'consecutiveFailures');
    invalid({ consecutiveFailures: 1.5 }, 'consecutiveFailures');
    invalid({ halfOpenAfterMs: 0 }, 'halfOpenAfterMs');
    invalid({ timeoutMs: -1 }, 'timeoutMs');
    invalid({ timeoutMs: Number.NaN }, 'timeoutMs');
    invalid({ errorRate: { threshold: 0 } }, 'errorRate.threshold');
    invalid({ errorRate: { threshold: 1.5 } }, 'errorRate.threshold');
    invalid({ errorRate: { threshold: 0.5, minimumCalls: 0 } }, 'errorRate.minimumCalls');
    invalid({ errorRate: { threshold: 0.5, windowMs: 0 } }, 'errorRate.windowMs');
    invalid({ errorRate: 'half' }, 'errorRate');
    invalid({ fallback: 'n/a' }, 'fallback');
    invalid({ isFailure: true }, 'isFailure');
    invalid({ registry: {} }, 'registry');
    invalid({ halfOpenAfter: 1000 }, 'halfOpenAfter');
  });

  it('refuses an empty name', () => {
    expect(() => circuitBreaker('', {})).toThrow(CircuitConfigError);
    expect(() => circuitBreaker(undefined as never)).toThrow(/name/);
  });

  it('defaults to 5 failures in a row, and with errorRate alone, to no failure count', async () => {
    const a = circuitBreaker('a', { registry: false });
    await failTimes(a, 4);
    expect(a.state).toBe('closed');
    await failTimes(a, 1);
    expect(a.state).toBe('open');
    const b = circuitBreaker('b', {
      registry: false,
      errorRate: { threshold: 0.9, minimumCalls: 100 },
    });
    await failTimes(b, 50);
    expect(b.state).toBe('closed');
    b.dispose();
  });

  it('is listed in the registry it is given', () => {
    const registry = new BreakerRegistry();
    const breaker = circuitBreaker('listed', { registry });
    expect(registry.get('listed')).toBe(breaker);
  });
});
