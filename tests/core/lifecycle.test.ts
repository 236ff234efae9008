import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Component, Lifecycle } from '../../src/core/lifecycle.js';
import { wrapLogger } from '../../src/core/logger.js';
import { createEnterprise, type Enterprise, LifecycleError } from '../../src/index.js';
import { recordingLogger } from '../support/test-doubles.js';

function lifecycle() {
  const host = recordingLogger();
  return { host, lifecycle: new Lifecycle(wrapLogger(host)) };
}

function component(name: string, events: string[], overrides: Partial<Component> = {}): Component {
  return {
    name,
    start: () => {
      events.push(`start ${name}`);
    },
    stop: () => {
      events.push(`stop ${name}`);
    },
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('Lifecycle', () => {
  it('starts components in order and stops them in reverse, once each', async () => {
    const { lifecycle: life } = lifecycle();
    const events: string[] = [];
    life.add(component('a', events));
    life.add(component('b', events));
    life.add(component('c', events));
    expect(life.state).toBe('created');
    await life.start();
    expect(life.state).toBe('started');
    await life.shutdown();
    expect(life.state).toBe('stopped');
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('waits for async starts and stops', async () => {
    const { lifecycle: life } = lifecycle();
    const events: string[] = [];
    const later = (event: string) => async () => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      events.push(event);
    };
    life.add({ name: 'a', start: later('start a'), stop: later('stop a') });
    life.add({ name: 'b', start: later('start b'), stop: later('stop b') });
    await life.start();
    expect(events).toEqual(['start a', 'start b']);
    await life.shutdown();
    expect(events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });

  it('start() is idempotent, also when called concurrently', async () => {
    const { lifecycle: life } = lifecycle();
    const events: string[] = [];
    life.add(component('a', events));
    const first = life.start();
    const second = life.start();
    expect(second).toBe(first);
    await Promise.all([first, second, life.start()]);
    await life.start();
    expect(events).toEqual(['start a']);
  });

  it('shutdown() is idempotent, also when called concurrently', async () => {
    const { lifecycle: life } = lifecycle();
    const events: string[] = [];
    life.add(component('a', events));
    await life.start();
    await Promise.all([life.shutdown(), life.shutdown()]);
    await life.shutdown();
    expect(events).toEqual(['start a', 'stop a']);
  });

  it('rejects start() after shutdown() with LifecycleError', async () => {
    const { lifecycle: life } = lifecycle();
    await life.start();
    await life.shutdown();
    const error = (await rejection(life.start())) as LifecycleError;
    expect(error).toBeInstanceOf(LifecycleError);
    expect(error.code).toBe('E_LIFECYCLE');
    expect(error.context).toEqual({ state: 'stopped' });
    expect(error.message).toMatch(/shut down/);
  });

  it('rejects start() called after shutdown(), even before the shutdown has finished', async () => {
    const { lifecycle: life } = lifecycle();
    const events: string[] = [];
    let release = () => {};
    life.add(
      component('slow', events, {
        stop: () => new Promise<void>((resolve) => (release = resolve)),
      }),
    );
    await life.start();
    const stopping = life.shutdown();
    const restart = life.start();
    await expect(restart).rejects.toBeInstanceOf(LifecycleError);
    await vi.waitFor(() => expect(life.state).toBe('stopping'));
    await expect(life.start()).rejects.toBeInstanceOf(LifecycleError);
    release();
    await stopping;
    expect(life.state).toBe('stopped');
  });

  it('shutdown() before start() completes without starting anything', async () => {
    const { lifecycle: life } = lifecycle();
    const events: string[] = [];
    life.add(component('a', events));
    await life.shutdown();
    expect(life.state).toBe('stopped');
    expect(events).not.toContain('start a');
  });

  it('shutdown() during start() waits for the start, then stops what started', async () => {
    const { lifecycle: life } = lifecycle();
    const events: string[] = [];
    life.add({
      name: 'slow',
      start: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push('start slow');
      },
      stop: () => {
        events.push('stop slow');
      },
    });
    const starting = life.start();
    const stopping = life.shutdown();
    await Promise.all([starting, stopping]);
    expect(events).toEqual(['start slow', 'stop slow']);
    expect(life.state).toBe('stopped');
  });

  it('a component that fails to stop is logged and the others still stop', async () => {
    const { lifecycle: life, host } = lifecycle();
    const events: string[] = [];
    const failure = new Error('cannot close');
    life.add(component('a', events));
    life.add(
      component('b', events, {
        stop: () => {
          throw failure;
        },
      }),
    );
    life.add(
      component('c', events, {
        stop: async () => {
          throw new Error('async failure');
        },
      }),
    );
    await life.start();
    await expect(life.shutdown()).resolves.toBeUndefined();
    expect(events).toContain('stop a');
    expect(life.state).toBe('stopped');
    const errors = host.calls.filter((call) => call.level === 'error');
    expect(errors.map((call) => call.fields.component)).toEqual(['c', 'b']);
    expect(errors[1]?.fields.err).toBe(failure);
  });

  it('a failing start rejects with its error, stops what had started and logs it', async () => {
    const { lifecycle: life, host } = lifecycle();
    const events: string[] = [];
    const failure = new Error('port in use');
    life.add(component('a', events));
    life.add(
      component('b', events, {
        start: () => {
          throw failure;
        },
      }),
    );
    life.add(component('c', events));
    expect(await rejection(life.start())).toBe(failure);
    expect(events).toContain('stop a');
    expect(events).not.toContain('start c');
    expect(life.state).toBe('stopped');
    expect(host.calls.some((call) => call.level === 'error' && call.fields.err === failure)).toBe(
      true,
    );
    await expect(life.start()).rejects.toBeInstanceOf(LifecycleError);
  });

  it('shutdown() after a failed start does not stop components a second time', async () => {
    const { lifecycle: life } = lifecycle();
    const events: string[] = [];
    life.add(component('a', events));
    life.add(
      component('b', events, {
        start: () => {
          throw new Error('port in use');
        },
      }),
    );
    await rejection(life.start());
    await life.shutdown();
    expect(events.filter((event) => event === 'stop a')).toHaveLength(1);
    expect(events.filter((event) => event === 'stop b').length).toBeLessThanOrEqual(1);
  });
});

describe('Enterprise lifecycle', () => {
  let enterprise: Enterprise | undefined;

  afterEach(async () => {
    vi.restoreAllMocks();
    await enterprise?.shutdown();
    enterprise = undefined;
  });

  function create(intervalMs = 1_000): Enterprise {
    enterprise = createEnterprise({
      env: {},
      logLevel: 'silent',
      performance: { systemMetrics: { intervalMs } },
    });
    return enterprise;
  }

  const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it('creating an instance starts no timer', async () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    create();
    expect(setIntervalSpy).not.toHaveBeenCalled();
    expect(setTimeoutSpy).not.toHaveBeenCalled();
  });

  it('start() runs the system metrics sampler on an unref’d timer; shutdown() clears it', async () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const clearIntervalSpy = vi.spyOn(globalThis, 'clearInterval');
    const instance = create(250);
    const before = timeouts();
    await instance.start();
    expect(instance.state).toBe('started');
    // The sampler (every 250 ms) and the event-loop delay probe.
    const intervals = setIntervalSpy.mock.calls.map((call) => call[1]);
    expect(intervals).toContain(250);
    const timers = setIntervalSpy.mock.results.map((result) => result.value as NodeJS.Timeout);
    for (const timer of timers) expect(timer.hasRef()).toBe(false);
    // An unref'd timer does not keep the process alive, so it is not an active resource.
    expect(timeouts()).toBe(before);
    await instance.shutdown();
    expect(instance.state).toBe('stopped');
    for (const timer of timers) expect(clearIntervalSpy).toHaveBeenCalledWith(timer);
    expect(timeouts()).toBe(before);
  });

  it('start() and shutdown() are idempotent', async () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const clearIntervalSpy = vi.spyOn(globalThis, 'clearInterval');
    const instance = create();
    await Promise.all([instance.start(), instance.start()]);
    await instance.start();
    // One sampler and one event-loop delay probe, however often start() is called.
    expect(setIntervalSpy).toHaveBeenCalledTimes(2);
    await Promise.all([instance.shutdown(), instance.shutdown()]);
    await instance.shutdown();
    expect(clearIntervalSpy).toHaveBeenCalledTimes(2);
    expect(instance.state).toBe('stopped');
  });

  it('start() after shutdown() rejects with LifecycleError (E_LIFECYCLE)', async () => {
    const instance = create();
    await instance.start();
    await instance.shutdown();
    const error = (await rejection(instance.start())) as LifecycleError;
    expect(error).toBeInstanceOf(LifecycleError);
    expect(error.code).toBe('E_LIFECYCLE');
  });

  it('an instance that was never started shuts down cleanly', async () => {
    const instance = create();
    await instance.shutdown();
    expect(instance.state).toBe('stopped');
    await expect(instance.start()).rejects.toBeInstanceOf(LifecycleError);
  });

  it('the system metrics sampler produces samples while started', async () => {
    const instance = create(100);
    await instance.start();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const sample = instance.performance.system();
    expect(sample?.memory.rss).toBeGreaterThan(0);
    expect(sample?.cpu.percent).toBeGreaterThanOrEqual(0);
  });

  it('systemMetrics: false starts no timer at all', async () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    enterprise = createEnterprise({
      env: {},
      logLevel: 'silent',
      performance: { systemMetrics: false },
    });
    await enterprise.start();
    expect(setIntervalSpy).not.toHaveBeenCalled();
    expect(enterprise.performance.system()).toBeNull();
  });
});
