import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  configure,
  createMethodDecorator,
  type Enterprise,
  getEnterprise,
  InvalidArgumentError,
  MonitorPerformance,
  monitorPerformance,
} from '../../src/index.js';
import { describeMonitorPerformance } from '../support/decorator-suite.js';
import { manualClock } from '../support/test-doubles.js';

// The same behaviour is checked under experimentalDecorators by tests/legacy/decorators.test.ts.
describeMonitorPerformance('standard');

function invalidArgument(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('@MonitorPerformance misuse under standard decorators', () => {
  it('throws InvalidArgumentError on a getter', () => {
    const error = invalidArgument(() => {
      class Account {
        // @ts-expect-error methods only
        @MonitorPerformance()
        get balance(): number {
          return 1;
        }
      }
      return Account;
    });
    expect(error.message).toContain('@MonitorPerformance()');
    expect(error.message).toContain('a getter');
  });

  it('throws InvalidArgumentError on a setter', () => {
    invalidArgument(() => {
      class Account {
        // @ts-expect-error methods only
        @MonitorPerformance()
        set balance(_value: number) {}
      }
      return Account;
    });
  });

  it('throws InvalidArgumentError on a field', () => {
    const error = invalidArgument(() => {
      class Account {
        // @ts-expect-error methods only
        @MonitorPerformance()
        balance = 1;
      }
      return Account;
    });
    expect(error.message).toContain('a field');
  });

  it('throws InvalidArgumentError on an auto-accessor', () => {
    invalidArgument(() => {
      class Account {
        // @ts-expect-error methods only
        @MonitorPerformance()
        accessor balance = 1;
      }
      return Account;
    });
  });

  it('throws InvalidArgumentError that suggests @MonitorPerformance() when the parentheses are forgotten', () => {
    const error = invalidArgument(() => {
      class Account {
        // @ts-expect-error a decorator factory, not a decorator
        @MonitorPerformance
        deposit(): void {}
      }
      return Account;
    });
    expect(error.message).toContain('@MonitorPerformance()');
  });

  it('a custom createMethodDecorator decorator names itself when misused', () => {
    const Custom = () => createMethodDecorator('Custom', (original) => original);
    const error = invalidArgument(() => {
      class Account {
        // @ts-expect-error methods only
        @Custom()
        get balance(): number {
          return 1;
        }
      }
      return Account;
    });
    expect(error.message).toContain('@Custom()');
  });
});

describe('monitorPerformance(name, fn)', () => {
  const time = manualClock();
  let enterprise: Enterprise;

  // Wrapped before configure(): the default instance is looked up at call time.
  const add = monitorPerformance('add', (a: number, b: number) => {
    time.advance(4);
    return a + b;
  });

  beforeEach(() => {
    enterprise = configure({
      env: {},
      logLevel: 'silent',
      clock: time.clock,
      performance: { systemMetrics: false },
    });
  });

  afterAll(async () => {
    await getEnterprise().shutdown();
  });

  const stats = (name: string) => enterprise.performance.getStats(name)?.windows.all;

  it('returns the value synchronously and records into the current default instance', () => {
    expect(add(2, 3)).toBe(5);
    expect(stats('add')).toMatchObject({ count: 1, errors: 0, totalMs: 4 });
  });

  it('keeps `this` when used as a method', () => {
    const cart = {
      items: [3, 4],
      total: monitorPerformance('cart_total', function (this: { items: number[] }) {
        return this.items.reduce((sum, item) => sum + item, 0);
      }),
    };
    expect(cart.total()).toBe(7);
    expect(stats('cart_total')?.count).toBe(1);
  });

  it('returns a promise of the value the function resolved to', async () => {
    const promise = Promise.resolve('sent');
    const send = monitorPerformance('send', () => promise);
    await expect(send()).resolves.toBe('sent');
    expect(stats('send')?.count).toBe(1);
  });

  it('rethrows sync throws and async rejections unchanged and counts both', async () => {
    const syncFailure = 'just a string';
    const failNow = monitorPerformance('fail_now', () => {
      throw syncFailure;
    });
    const failLater = monitorPerformance('fail_later', async () => {
      throw undefined;
    });
    let caught: unknown;
    try {
      failNow();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(syncFailure);
    caught = 'not rejected';
    try {
      await failLater();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeUndefined();
    expect(stats('fail_now')).toMatchObject({ count: 1, errors: 1 });
    expect(stats('fail_later')).toMatchObject({ count: 1, errors: 1 });
  });

  it('keeps the function name and length', () => {
    function sendEmail(_to: string, _subject: string) {}
    const wrapped = monitorPerformance('send_email', sendEmail);
    expect(wrapped.name).toBe('sendEmail');
    expect(wrapped.length).toBe(2);
  });

  it('accepts an options object with a name and a threshold', () => {
    const parse = monitorPerformance({ name: 'parse', thresholdMs: 2 }, (text: string) => {
      time.advance(3);
      return JSON.parse(text) as unknown;
    });
    expect(parse('{"a":1}')).toEqual({ a: 1 });
    expect(stats('parse')).toMatchObject({ count: 1, slow: 1 });
  });

  it('rejects an empty name, a missing name and a non-function', () => {
    invalidArgument(() => monitorPerformance('', () => 1));
    invalidArgument(() => monitorPerformance({ thresholdMs: 5 } as never, () => 1));
    invalidArgument(() => monitorPerformance('op', 42 as never));
    invalidArgument(() => monitorPerformance({ name: 'op', thresholdMs: 0 }, () => 1));
  });
});
