import { assertFactoryCall, createMethodDecorator } from '../core/decorators.js';
import { Breaker } from './breaker.js';
import type { CircuitBreakerOptions } from './breaker-options.js';
import { resolveBreakerOptions } from './breaker-options.js';
import { circuitBreaker } from './circuit-breaker.js';
import { CircuitConfigError } from './errors.js';

/**
 * What `@CircuitBreaker` decorates: methods that return a promise, in both TypeScript decorator
 * modes. A method that returns a plain value is refused by the type checker.
 *
 * @example
 * ```ts
 * const Protected: AsyncMethodDecorator = CircuitBreaker({ timeoutMs: 1_000 });
 * class Client {
 *   @Protected
 *   async get(id: string): Promise<Item> { ... }
 * }
 * ```
 */
export interface AsyncMethodDecorator {
  /** Standard decorator form. */
  <T extends (this: any, ...args: any) => PromiseLike<any>>(
    value: T,
    context: ClassMethodDecoratorContext<any, T>,
  ): T;
  /** Legacy (`experimentalDecorators`) form. */
  <T extends (this: any, ...args: any) => PromiseLike<any>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): void;
}

/**
 * What `@CircuitBreaker` and {@link withCircuitBreaker} take: a name, options, or a breaker.
 *
 * @example
 * ```ts
 * const specs: CircuitBreakerSpec[] = ['geo', { name: 'geo', timeoutMs: 300 }, circuitBreaker('geo')];
 * ```
 */
export type CircuitBreakerSpec<F = never> =
  | string
  | (CircuitBreakerOptions<F> & { name?: string })
  | Breaker<F>;

/**
 * Runs every call of the decorated method through a circuit breaker: the one given, or one made
 * on the first call and shared by every instance of the class, named `options.name` or
 * `ClassName.methodName` and listed in the process registry. Works with standard decorators and
 * with `experimentalDecorators` (NestJS) alike and keeps `this`.
 *
 * The method must return a promise (the types say so): a breaker's rejections, timeouts and
 * trial calls are asynchronous, so a method that slipped through returning a plain value (from
 * JavaScript) returns it in a promise. Options are checked when the class is defined.
 *
 * @example
 * ```ts
 * class PaymentsClient {
 *   @CircuitBreaker({ consecutiveFailures: 3, timeoutMs: 2_000 })
 *   async charge(order: Order): Promise<Receipt> { ... }      // breaker "PaymentsClient.charge"
 *
 *   @CircuitBreaker(searchBreaker)                            // one breaker for several methods
 *   async search(query: string): Promise<Hit[]> { ... }
 * }
 * ```
 */
export function CircuitBreaker<F = never>(spec?: CircuitBreakerSpec<F>): AsyncMethodDecorator {
  // biome-ignore lint/complexity/noArguments: the decorator's own arguments reveal a missing `()`.
  assertFactoryCall('CircuitBreaker', arguments);
  const make = breakerMaker(spec);
  return createMethodDecorator('CircuitBreaker', (original, method) => {
    let breaker: Breaker<F> | undefined;
    return function protectedCall(this: unknown, ...args: unknown[]) {
      breaker ??= make(() => `${method.className(this)}.${method.methodName}`);
      return breaker.execute(() => original.apply(this, args));
    };
  }) as AsyncMethodDecorator;
}

/**
 * The function twin of `@CircuitBreaker`: `fn` with every call run through a breaker (the one
 * given, or one made now from a name or options with a `name`). Keeps `this` and the arguments;
 * always returns a promise.
 *
 * @example
 * ```ts
 * export const fetchRates = withCircuitBreaker({ name: 'rates', timeoutMs: 1_000, fallback: () => cachedRates }, getRates);
 * const rates = await fetchRates('EUR');
 * ```
 */
export function withCircuitBreaker<A extends unknown[], R, F = never>(
  spec: CircuitBreakerSpec<F>,
  fn: (this: any, ...args: A) => R | PromiseLike<R>,
): (...args: A) => Promise<R | F> {
  const breaker = breakerMaker(spec)(() => {
    throw new CircuitConfigError(
      'withCircuitBreaker(): the breaker needs a name: pass a name, options with `name`, or a breaker',
      { breaker: '', option: 'name', value: undefined, expected: 'a non-empty string' },
    );
  });
  return breaker.wrap(fn);
}

/**
 * Checks `spec` now and returns what gives the breaker: the one given, or one made on first use
 * with the name from `spec` or from `defaultName`.
 */
function breakerMaker<F>(
  spec: CircuitBreakerSpec<F> | undefined,
): (defaultName: () => string) => Breaker<F> {
  if (spec instanceof Breaker) return () => spec;
  const { name, ...options } = typeof spec === 'string' ? { name: spec } : { ...spec };
  // Bad options fail where the class or function is defined, not at its first call.
  resolveBreakerOptions(name ?? 'unnamed', options as CircuitBreakerOptions<unknown>);
  return (defaultName) => circuitBreaker<F>(name ?? defaultName(), options);
}
