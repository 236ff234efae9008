import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index.js';
import {
  BreakerRegistry,
  CircuitBreaker,
  CircuitConfigError,
  CircuitOpenError,
  circuitBreaker,
  defaultBreakerRegistry,
  withCircuitBreaker,
} from '../../src/resilience/index.js';
import type { DecoratorMode } from './decorator-suite.js';

/**
 * `@CircuitBreaker` in both compilation modes: compiled as standard (TC39) decorators when
 * imported from tests/resilience, and as `experimentalDecorators` when imported from tests/legacy;
 * it type-checks under both tsconfig.json and tsconfig.legacy.json.
 */
export function describeCircuitBreakerDecorator(mode: DecoratorMode): void {
  const prefix = `decorator-${mode}`;

  describe(`@CircuitBreaker with ${mode} decorators`, () => {
    it('runs the method through a breaker named Class.method, shared by every instance, keeping this', async () => {
      class Inventory {
        constructor(readonly warehouse: string) {}

        @CircuitBreaker({ consecutiveFailures: 2 })
        async stock(sku: string, fail = false): Promise<string> {
          if (fail) throw new Error(`${this.warehouse} down`);
          return `${this.warehouse}:${sku}`;
        }
      }
      const east = new Inventory('east');
      const west = new Inventory('west');
      await expect(east.stock('a')).resolves.toBe('east:a');
      const breaker = defaultBreakerRegistry().get('Inventory.stock')!;
      expect(breaker).toBeDefined();
      await expect(west.stock('b', true)).rejects.toThrow('west down');
      await expect(east.stock('c', true)).rejects.toThrow('east down');
      expect(breaker.state).toBe('open');
      await expect(west.stock('d')).rejects.toBeInstanceOf(CircuitOpenError);
      defaultBreakerRegistry().remove('Inventory.stock');
    });

    it('takes a name, options with a name, or a breaker shared by several methods', async () => {
      const registry = new BreakerRegistry();
      const shared = circuitBreaker(`${prefix}-shared`, { registry, consecutiveFailures: 1 });
      class Client {
        @CircuitBreaker(`${prefix}-named`)
        async named(): Promise<number> {
          return 1;
        }

        @CircuitBreaker({ name: `${prefix}-options`, timeoutMs: 1_000, registry })
        async withOptions(): Promise<number> {
          return 2;
        }

        @CircuitBreaker(shared)
        async first(): Promise<number> {
          throw new Error('first fails');
        }

        @CircuitBreaker(shared)
        async second(): Promise<number> {
          return 3;
        }
      }
      const client = new Client();
      await expect(client.named()).resolves.toBe(1);
      expect(defaultBreakerRegistry().get(`${prefix}-named`)).toBeDefined();
      defaultBreakerRegistry().remove(`${prefix}-named`);
      await expect(client.withOptions()).resolves.toBe(2);
      expect(registry.get(`${prefix}-options`)).toBeDefined();
      await expect(client.first()).rejects.toThrow('first fails');
      await expect(client.second()).rejects.toBeInstanceOf(CircuitOpenError);
    });

    it('keeps the method name, metadata and static methods', async () => {
      const registry = new BreakerRegistry();
      class Service {
        @CircuitBreaker({ registry })
        static async ping(): Promise<string> {
          return 'pong';
        }

        @CircuitBreaker({ registry })
        async fetchUser(id: string): Promise<{ id: string }> {
          return { id };
        }
      }
      expect(Service.prototype.fetchUser.name).toBe('fetchUser');
      await expect(Service.ping()).resolves.toBe('pong');
      await expect(new Service().fetchUser('7')).resolves.toEqual({ id: '7' });
      expect(registry.list().map((b) => b.name)).toEqual(['Service.fetchUser', 'Service.ping']);
    });

    it('a method returning a plain value (from JavaScript) returns it in a promise', async () => {
      const registry = new BreakerRegistry();
      class Legacy {
        @(CircuitBreaker({ registry }) as any)
        plain(): number {
          return 5;
        }
      }
      const result = new Legacy().plain() as unknown;
      expect(result).toBeInstanceOf(Promise);
      await expect(result).resolves.toBe(5);
    });

    it('is refused by the type checker on a method that does not return a promise', () => {
      const registry = new BreakerRegistry();
      class Sync {
        // @ts-expect-error: @CircuitBreaker decorates methods that return a promise
        @CircuitBreaker({ registry })
        plain(): number {
          return 1;
        }
      }
      expect(new Sync().plain()).toBeInstanceOf(Promise);
    });

    it('checks its options where the class is defined', () => {
      expect(() => {
        class Bad {
          @CircuitBreaker({ consecutiveFailures: -1 })
          async call(): Promise<void> {}
        }
        return Bad;
      }).toThrow(CircuitConfigError);
    });

    it('refuses to be used without parentheses', () => {
      expect(() => {
        class Bad {
          // @ts-expect-error: the factory must be called
          @CircuitBreaker
          async call(): Promise<void> {}
        }
        return Bad;
      }).toThrow(InvalidArgumentError);
    });
  });

  describe(`withCircuitBreaker (${mode} project)`, () => {
    it('wraps a function, keeping this and the arguments', async () => {
      const registry = new BreakerRegistry();
      const counter = {
        base: 40,
        add: withCircuitBreaker(
          { name: `${prefix}-fn`, registry },
          async function (this: { base: number }, n: number) {
            return this.base + n;
          },
        ),
      };
      await expect(counter.add(2)).resolves.toBe(42);
      expect(registry.get(`${prefix}-fn`)?.snapshot().counts.success).toBe(1);
    });

    it('needs a name', () => {
      expect(() => withCircuitBreaker({ timeoutMs: 10 }, async () => 1)).toThrow(
        CircuitConfigError,
      );
    });
  });
}
