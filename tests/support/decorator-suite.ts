import 'reflect-metadata';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  configure,
  createMethodDecorator,
  type DualMethodDecorator,
  type Enterprise,
  getEnterprise,
  InvalidArgumentError,
  MonitorPerformance,
  type SlowEvent,
  type SpanEvent,
  type WindowStats,
} from '../../src/index.js';
import { manualClock } from './test-doubles.js';

/**
 * The decorator behaviour principle 7 promises in both compilation modes. This file is compiled
 * once per vitest project: as standard (TC39) decorators when imported from tests/core, and as
 * `experimentalDecorators` when imported from tests/legacy. It also type-checks under both
 * tsconfig.json and tsconfig.legacy.json, which is itself part of the promise: one export, both modes.
 */
export type DecoratorMode = 'standard' | 'legacy';

const compute = Symbol('compute');

/** Which form a decorator was called with: a context object (standard) or a property key (legacy). */
let probedMode: DecoratorMode | undefined;
const Probe = ((_value: unknown, context: unknown) => {
  probedMode = typeof context === 'object' && context !== null ? 'standard' : 'legacy';
}) as DualMethodDecorator;

/** Like NestJS's route decorators: stores reflect-metadata and a property on the method itself. */
function Tag(key: string, value: unknown): DualMethodDecorator {
  return ((target: unknown, _context: unknown, descriptor?: PropertyDescriptor) => {
    const fn = (descriptor === undefined ? target : descriptor.value) as Record<string, unknown>;
    Reflect.defineMetadata(key, value, fn);
    fn[`tag:${key}`] = value;
  }) as DualMethodDecorator;
}

/** A decorator that wraps the method again, built with the package's own helper. */
const Wrapped = () =>
  createMethodDecorator(
    'Wrapped',
    (original) =>
      function wrapper(this: unknown, ...args: unknown[]) {
        return original.apply(this, args);
      },
  );

export function describeMonitorPerformance(mode: DecoratorMode): void {
  describe(`@MonitorPerformance with ${mode} decorators`, () => {
    const time = manualClock();
    let enterprise: Enterprise;

    const stats = (name: string, labels?: Record<string, string>): WindowStats | undefined =>
      getEnterprise().performance.getStats(name, labels)?.windows.all;

    /** Calls recorded per operation whose name ends in `.method`, to show a wrong class name. */
    const recorded = (method: string): Record<string, number> =>
      Object.fromEntries(
        getEnterprise()
          .performance.operations()
          .filter((operation) => operation.name.endsWith(`.${method}`))
          .map((operation) => [operation.name, operation.windows.all.count]),
      );

    // Declared before configure(): the decorators must find the default instance at call time.
    class Calculator {
      factor = 2;

      @Probe
      probe() {}

      @MonitorPerformance()
      double(value: number): number {
        time.advance(3);
        return value * this.factor;
      }

      @MonitorPerformance()
      async doubleLater(value: number): Promise<number> {
        await new Promise((resolve) => setTimeout(resolve, 1));
        time.advance(5);
        return value * this.factor;
      }

      @MonitorPerformance()
      passThrough(value: unknown): unknown {
        return value;
      }

      @MonitorPerformance()
      fail(value: unknown): never {
        time.advance(2);
        throw value;
      }

      @MonitorPerformance()
      async failLater(value: unknown): Promise<never> {
        await Promise.resolve();
        throw value;
      }

      @MonitorPerformance('calculator_named')
      named(): string {
        return 'named';
      }

      @MonitorPerformance('calculator_named_with_options', { thresholdMs: 1 })
      namedWithOptions(ms: number): number {
        time.advance(ms);
        return ms;
      }

      @MonitorPerformance({
        name: 'calculator_options',
        thresholdMs: 10,
        attributes: { tier: 'free', retries: 1, cached: false },
        labels: { region: 'eu' },
      })
      withOptions(ms: number): number {
        time.advance(ms);
        return ms;
      }

      @MonitorPerformance({ thresholdMs: 1 })
      unnamedWithOptions(): string {
        time.advance(5);
        return 'ok';
      }

      @MonitorPerformance()
      @Tag('role', 'admin')
      tagged(a: string, b: number): string {
        return a + b;
      }
    }

    beforeEach(() => {
      enterprise = configure({
        env: {},
        logLevel: 'silent',
        clock: time.clock,
        performance: { systemMetrics: false, alertThresholdMs: 1_000 },
      });
    });

    afterAll(async () => {
      await getEnterprise().shutdown();
    });

    it(`is compiled as ${mode} decorators`, () => {
      expect(probedMode).toBe(mode);
    });

    it('records a call as Class.method by default', () => {
      new Calculator().double(1);
      expect(stats('Calculator.double')).toMatchObject({ count: 1, errors: 0, totalMs: 3 });
    });

    it('records into the instance configured after the class was declared', () => {
      const calculator = new Calculator();
      calculator.double(1);
      const first = enterprise;
      const second = configure({
        env: {},
        logLevel: 'silent',
        clock: time.clock,
        performance: { systemMetrics: false },
      });
      calculator.double(1);
      calculator.double(1);
      expect(first.performance.getStats('Calculator.double')?.windows.all.count).toBe(1);
      expect(second.performance.getStats('Calculator.double')?.windows.all.count).toBe(2);
    });

    it('keeps `this`', () => {
      const calculator = new Calculator();
      calculator.factor = 10;
      expect(calculator.double(4)).toBe(40);
    });

    it('keeps a sync method sync: the value comes back, not a promise', () => {
      const result = new Calculator().double(4);
      expect(result).toBe(8);
      expect(stats('Calculator.double')?.count).toBe(1);
    });

    it('returns a promise settling as the async method did, and records it when it settles', async () => {
      const calculator = new Calculator();
      const pending = Promise.resolve('value');
      await expect(calculator.passThrough(pending)).resolves.toBe('value');
      const later = calculator.doubleLater(21);
      expect(later).toBeInstanceOf(Promise);
      expect(stats('Calculator.doubleLater')?.count ?? 0).toBe(0);
      await expect(later).resolves.toBe(42);
      expect(stats('Calculator.doubleLater')).toMatchObject({ count: 1, errors: 0, totalMs: 5 });
    });

    it('returns a thenable unchanged', () => {
      // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test is about
      const thenable = { then: (resolve: (value: number) => void) => resolve(1) };
      expect(new Calculator().passThrough(thenable)).toBe(thenable);
    });

    it.each<[string, unknown]>([
      ['an Error', new RangeError('out of range')],
      ['a string', 'plain string'],
      ['undefined', undefined],
      ['null', null],
      ['an object', { code: 42 }],
    ])('rethrows a sync throw of %s unchanged and counts it as an error', (_label, value) => {
      let caught: unknown = 'nothing was thrown';
      try {
        new Calculator().fail(value);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBe(value);
      expect(stats('Calculator.fail')).toMatchObject({ count: 1, errors: 1, totalMs: 2 });
    });

    it.each<[string, unknown]>([
      ['an Error', new TypeError('bad')],
      ['a string', 'plain string'],
      ['undefined', undefined],
    ])(
      'passes an async rejection with %s through unchanged and counts it',
      async (_label, value) => {
        let caught: unknown = 'nothing was rejected';
        try {
          await new Calculator().failLater(value);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBe(value);
        expect(stats('Calculator.failLater')).toMatchObject({ count: 1, errors: 1 });
      },
    );

    it('uses the name given as a string', () => {
      expect(new Calculator().named()).toBe('named');
      expect(stats('calculator_named')?.count).toBe(1);
      expect(stats('Calculator.named')).toBeUndefined();
    });

    it('takes options after the name', () => {
      const calculator = new Calculator();
      calculator.namedWithOptions(0.5);
      calculator.namedWithOptions(5);
      expect(stats('calculator_named_with_options')).toMatchObject({ count: 2, slow: 1 });
      expect(enterprise.performance.getStats('calculator_named_with_options')?.thresholdMs).toBe(1);
    });

    it('applies name, thresholdMs, attributes and labels from an options object', () => {
      const slow: SlowEvent[] = [];
      enterprise.performance.on('slow', (event) => slow.push(event));
      const calculator = new Calculator();
      calculator.withOptions(5);
      calculator.withOptions(20);
      const operation = enterprise.performance.getStats('calculator_options', { region: 'eu' });
      expect(operation?.labels).toEqual({ region: 'eu' });
      expect(operation?.thresholdMs).toBe(10);
      expect(operation?.windows.all).toMatchObject({ count: 2, slow: 1 });
      expect(slow).toHaveLength(1);
      expect(slow[0]).toMatchObject({
        name: 'calculator_options',
        durationMs: 20,
        thresholdMs: 10,
        labels: { region: 'eu' },
        attributes: { tier: 'free', retries: 1, cached: false },
      });
    });

    it('uses Class.method with an options object that has no name', () => {
      new Calculator().unnamedWithOptions();
      expect(stats('Calculator.unnamedWithOptions')).toMatchObject({ count: 1, slow: 1 });
    });

    it('keeps the method name and length', () => {
      const proto = Calculator.prototype;
      expect(proto.double.name).toBe('double');
      expect(proto.double.length).toBe(1);
      expect(proto.tagged.name).toBe('tagged');
      expect(proto.tagged.length).toBe(2);
      expect(proto.fail.name).toBe('fail');
    });

    it('keeps reflect-metadata and own properties set by a decorator applied before it', () => {
      const method = Calculator.prototype.tagged;
      expect(Reflect.getMetadata('role', method)).toBe('admin');
      expect((method as unknown as Record<string, unknown>)['tag:role']).toBe('admin');
      expect(new Calculator().tagged('a', 1)).toBe('a1');
      expect(stats('Calculator.tagged')?.count).toBe(1);
    });

    it('names a static method after its class and keeps `this`', () => {
      class Factory {
        readonly kind = 'factory';

        @MonitorPerformance()
        static create(): Factory {
          // `this` is the class the method was called on: a subclass builds its own instances.
          return new this();
        }
      }
      class SpecialFactory extends Factory {}
      expect(Factory.create()).toBeInstanceOf(Factory);
      expect(SpecialFactory.create()).toBeInstanceOf(SpecialFactory);
      expect(stats('Factory.create')?.count).toBe(2);
      expect(stats('SpecialFactory.create')).toBeUndefined();
    });

    it('records the declaring class when a subclass calls an inherited method first', () => {
      class Repository {
        @MonitorPerformance()
        find(id: number): string {
          return `${this.constructor.name}:${id}`;
        }
      }
      class UserRepository extends Repository {}
      expect(new UserRepository().find(1)).toBe('UserRepository:1');
      expect(new Repository().find(2)).toBe('Repository:2');
      expect(stats('Repository.find')?.count).toBe(2);
      expect(stats('UserRepository.find')).toBeUndefined();
    });

    it('records both levels when an overriding decorated method calls super', () => {
      const spans: SpanEvent[] = [];
      enterprise.performance.on('span', (event) => spans.push(event));
      class Base {
        @MonitorPerformance()
        save(): string {
          return 'saved';
        }
      }
      class Audited extends Base {
        @MonitorPerformance()
        override save(): string {
          return `audited ${super.save()}`;
        }
      }
      expect(new Audited().save()).toBe('audited saved');
      expect(stats('Audited.save')?.count).toBe(1);
      expect(stats('Base.save')?.count).toBe(1);
      expect(spans.map((span) => [span.name, span.parents])).toEqual([
        ['Base.save', ['Audited.save']],
        ['Audited.save', []],
      ]);
    });

    it('names a symbol-keyed method after the symbol description', () => {
      class Engine {
        @MonitorPerformance()
        [compute](x: number): number {
          return x + 1;
        }
      }
      class Plain {
        [compute](x: number): number {
          return x + 1;
        }
      }
      expect(new Engine()[compute](1)).toBe(2);
      expect(stats('Engine.compute')?.count).toBe(1);
      expect(Engine.prototype[compute].name).toBe(Plain.prototype[compute].name);
    });

    it('records Class.method even when the first call has no `this` (a detached method)', () => {
      class Formatter {
        @MonitorPerformance()
        format(value: number): string {
          return `#${value}`;
        }
      }
      const { format } = new Formatter();
      expect([1, 2].map(format)).toEqual(['#1', '#2']);
      new Formatter().format(3);
      expect(recorded('format')).toEqual({ 'Formatter.format': 3 });
    });

    it('records the declaring class when another decorator wraps it and a subclass calls it', () => {
      class Job {
        @Wrapped()
        @MonitorPerformance()
        run(): string {
          return 'ran';
        }
      }
      class NightlyJob extends Job {}
      expect(new NightlyJob().run()).toBe('ran');
      expect(recorded('run')).toEqual({ 'Job.run': 1 });
    });

    it.each<[string, unknown[]]>([
      ['an empty name', ['']],
      ['a blank name', ['   ']],
      ['a name over 200 characters', ['x'.repeat(201)]],
      ['an empty name in options', [{ name: '' }]],
      ['thresholdMs 0', [{ thresholdMs: 0 }]],
      ['thresholdMs -1', [{ thresholdMs: -1 }]],
      ['thresholdMs NaN', [{ thresholdMs: Number.NaN }]],
      ['thresholdMs as a string', [{ thresholdMs: '10' }]],
      ['thresholdMs 0 after a name', ['op', { thresholdMs: 0 }]],
      ['an object attribute value', [{ attributes: { user: { id: 1 } } }]],
      ['a NaN attribute value', [{ attributes: { ratio: Number.NaN } }]],
      ['the reserved label "le"', [{ labels: { le: '0.5' } }]],
      ['the reserved label "operation"', [{ labels: { operation: 'x' } }]],
      ['a label name with "-"', [{ labels: { 'user-tier': 'free' } }]],
      ['a label name starting with __', [{ labels: { __name: 'x' } }]],
      ['an object label value', [{ labels: { tier: {} } }]],
      ['a number instead of a name or options', [42]],
      ['null options', [null]],
    ])('rejects %s with InvalidArgumentError when the class is defined', (_label, args) => {
      const [first, second] = args as [never, never];
      let called = false;
      const define = () => {
        class Service {
          @MonitorPerformance(first, second)
          handle(): void {
            called = true;
          }
        }
        return Service;
      };
      let error: unknown;
      try {
        define();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code).toBe('E_INVALID_ARGUMENT');
      expect(called).toBe(false);
    });

    it('names the offending option in the error', () => {
      expect(() => MonitorPerformance({ thresholdMs: -1 })).toThrow(/thresholdMs=-1/);
      expect(() => MonitorPerformance({ labels: { le: 'x' } })).toThrow(/"le"/);
      expect(() => MonitorPerformance({ attributes: { user: {} as never } })).toThrow(
        /attributes\.user/,
      );
    });
  });

  describe(`createMethodDecorator with ${mode} decorators`, () => {
    interface Seen {
      operation: string;
      isStatic: boolean;
      args: unknown[];
    }
    const seen: Seen[] = [];
    const Audit = () =>
      createMethodDecorator(
        'Audit',
        (original, site) =>
          function audited(this: unknown, ...args: unknown[]) {
            seen.push({
              operation: `${site.className(this)}.${site.methodName}`,
              isStatic: site.isStatic,
              args,
            });
            return original.apply(this, args);
          },
      );

    class Orders {
      prefix = 'order';

      @Audit()
      place(id: number, quantity: number): string {
        return `${this.prefix}-${id}x${quantity}`;
      }

      @Audit()
      static count(): number {
        return 3;
      }
    }

    beforeEach(() => {
      seen.length = 0;
    });

    it('wraps the method, keeping `this`, arguments and return value', () => {
      expect(new Orders().place(7, 2)).toBe('order-7x2');
      expect(seen).toEqual([{ operation: 'Orders.place', isStatic: false, args: [7, 2] }]);
    });

    it('tells static methods apart', () => {
      expect(Orders.count()).toBe(3);
      expect(seen).toEqual([{ operation: 'Orders.count', isStatic: true, args: [] }]);
    });

    it('keeps the name and length of the method', () => {
      expect(Orders.prototype.place.name).toBe('place');
      expect(Orders.prototype.place.length).toBe(2);
      expect(Orders.count.name).toBe('count');
    });
  });
}
