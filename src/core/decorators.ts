import { InvalidArgumentError } from './errors.js';

/** Any function; the wrappers below keep its exact type. */
export type AnyFunction = (this: any, ...args: any[]) => any;

/**
 * A method decorator that works in both TypeScript compilation modes from one export:
 * standard (TC39) decorators, the default since TypeScript 5, and legacy `experimentalDecorators`,
 * which NestJS and many existing code bases use.
 */
export interface DualMethodDecorator {
  /** Standard decorator form. Typed over the whole method so generic methods keep their signature. */
  <T extends (this: any, ...args: any) => any>(
    value: T,
    context: ClassMethodDecoratorContext<any, T>,
  ): T;
  /** Legacy (`experimentalDecorators`) form. */
  (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor): void;
}

/** Where a decorator was applied, handed to the wrapper factory. */
export interface DecoratedMethod {
  /** The method's name (a symbol's description for symbol-keyed methods). */
  readonly methodName: string;
  /** Whether the method is static. */
  readonly isStatic: boolean;
  /**
   * The name of the class that declares the method. Standard decorators do not see the class, so the
   * name is found from the first call's `this` and remembered.
   */
  className(thisArg: unknown): string;
}

/**
 * Builds a {@link DualMethodDecorator} from a wrapper factory. The wrapper replaces the method; its
 * `name`, `length`, own properties and reflect-metadata (when `reflect-metadata` is loaded by the
 * host) are copied from the original so frameworks that read them (NestJS route handlers, for one)
 * see no difference.
 *
 * @param decoratorName - used in error messages.
 * @param wrap - returns the replacement for `original`; called once per decorated method.
 * @example
 * ```ts
 * const Logged = () =>
 *   createMethodDecorator('Logged', (original, site) =>
 *     function (this: unknown, ...args: unknown[]) {
 *       console.log(`${site.className(this)}.${site.methodName}`);
 *       return original.apply(this, args);
 *     },
 *   );
 * ```
 */
export function createMethodDecorator(
  decoratorName: string,
  wrap: (original: AnyFunction, site: DecoratedMethod) => AnyFunction,
): DualMethodDecorator {
  function decorator(
    value: unknown,
    context: unknown,
    descriptor?: PropertyDescriptor,
  ): AnyFunction | undefined {
    if (isStandardContext(context)) {
      if (context.kind !== 'method' || typeof value !== 'function') {
        throw misuse(decoratorName, `a ${String(context.kind)}`);
      }
      const site = describe(
        String(keyName(context.name)),
        context.static,
        undefined,
        context.name,
        context.private,
      );
      const wrapped = wrap(value as AnyFunction, site);
      site.bind(wrapped);
      markWrapper(wrapped, value as AnyFunction);
      copyFunctionMetadata(value as AnyFunction, wrapped);
      // Standard decorators do not see the class. Initializers run with `this` set to the class
      // (static methods, at definition) or to each new instance, which is where the declaring class
      // can be learnt before any call, even a detached one.
      context.addInitializer(function (this: unknown) {
        site.learn(this);
      });
      return wrapped;
    }
    if (
      descriptor !== undefined &&
      typeof descriptor === 'object' &&
      (typeof context === 'string' || typeof context === 'symbol')
    ) {
      const original = descriptor.value;
      if (typeof original !== 'function') {
        throw misuse(
          decoratorName,
          descriptor.get || descriptor.set ? 'an accessor' : 'a property',
        );
      }
      const isStatic = typeof value === 'function';
      const owner = isStatic ? (value as Function) : (value as object).constructor;
      const site = describe(keyName(context), isStatic, owner?.name || 'anonymous', context);
      const wrapped = wrap(original as AnyFunction, site);
      markWrapper(wrapped, original as AnyFunction);
      copyFunctionMetadata(original as AnyFunction, wrapped);
      descriptor.value = wrapped;
      return undefined;
    }
    throw misuse(decoratorName, 'something that is not a method');
  }
  return decorator as DualMethodDecorator;
}

function isStandardContext(value: unknown): value is ClassMethodDecoratorContext {
  return (
    typeof value === 'object' &&
    value !== null &&
    'kind' in value &&
    'name' in value &&
    typeof (value as { addInitializer?: unknown }).addInitializer === 'function'
  );
}

function keyName(key: string | symbol): string {
  return typeof key === 'symbol' ? (key.description ?? 'symbol') : key;
}

function misuse(decoratorName: string, what: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `@${decoratorName}() decorates methods, but was applied to ${what}. Did you forget the parentheses, as in @${decoratorName}()?`,
    { argument: 'target', value: what, expected: 'a class method' },
  );
}

interface Site extends DecoratedMethod {
  bind(wrapped: AnyFunction): void;
  learn(thisArg: unknown): void;
}

function describe(
  methodName: string,
  isStatic: boolean,
  knownClass: string | undefined,
  key: string | symbol,
  isPrivate = false,
): Site {
  let className = knownClass;
  let holder: unknown;
  let wrappedFn: AnyFunction | undefined;
  return {
    methodName,
    isStatic,
    className(thisArg) {
      if (className !== undefined) return className;
      const source = holder ?? thisArg;
      // Private methods live on no prototype: the class is the instance's (or the static's own).
      const found = isPrivate ? ownerName(source) : findOwner(source, key, wrappedFn);
      // Remembered only once a call has happened: names given after the class body (esbuild's
      // keepNames, for one) are in place by then. A detached call with no `this` is not remembered.
      if (found !== undefined && source != null) className = found;
      return found ?? 'anonymous';
    },
    learn(thisArg) {
      holder ??= thisArg;
    },
    bind(wrapped) {
      wrappedFn = wrapped;
    },
  };
}

/** Links a wrapper to the function it wraps, so stacked wrappers of this package can be traced back. */
const WRAPPED = Symbol('@revcopy/enterprise.wrapped');

function markWrapper(wrapper: AnyFunction, original: AnyFunction): void {
  Object.defineProperty(wrapper, WRAPPED, { value: original });
}

/** Whether `candidate` is `target` or wraps it through wrappers made by this package. */
function wraps(candidate: unknown, target: AnyFunction): boolean {
  for (let fn = candidate; typeof fn === 'function'; fn = (fn as any)[WRAPPED]) {
    if (fn === target) return true;
  }
  return false;
}

/**
 * The first non-undefined answer of `pick` for `fn` or a function it wraps through wrappers made
 * by this package, nearest first: finds a decorator's wrapper under others stacked above it.
 *
 * @internal
 */
export function findThroughWrappers<T>(
  fn: unknown,
  pick: (candidate: AnyFunction) => T | undefined,
): T | undefined {
  for (let current = fn; typeof current === 'function'; current = (current as any)[WRAPPED]) {
    const found = pick(current as AnyFunction);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Names the class that declares the decorated method: the object in `thisArg`'s prototype chain
 * that holds our wrapper (or a wrapper of this package around it) under `key`, or else, when a
 * foreign decorator wrapped it further, the nearest object that owns `key`.
 */
function findOwner(
  thisArg: unknown,
  key: string | symbol,
  wrapped: AnyFunction | undefined,
): string | undefined {
  let nearest: unknown;
  let current: unknown = thisArg;
  while (current !== null && (typeof current === 'object' || typeof current === 'function')) {
    const own = Object.getOwnPropertyDescriptor(current, key);
    if (own !== undefined) {
      nearest ??= current;
      if (wrapped !== undefined && wraps(own.value, wrapped)) return ownerName(current);
    }
    current = Object.getPrototypeOf(current);
  }
  return nearest === undefined ? undefined : ownerName(nearest);
}

function ownerName(holder: unknown): string | undefined {
  if (holder === null || (typeof holder !== 'object' && typeof holder !== 'function'))
    return undefined;
  return typeof holder === 'function'
    ? holder.name || 'anonymous'
    : (holder as { constructor?: Function }).constructor?.name || 'anonymous';
}

/**
 * Throws a helpful error when a decorator factory was applied without parentheses
 * (`@MonitorPerformance` instead of `@MonitorPerformance()`): its arguments are then the ones a
 * decorator receives.
 *
 * @example
 * ```ts
 * export function Timed(name?: string) {
 *   assertFactoryCall('Timed', arguments);
 *   return createMethodDecorator('Timed', wrapTimed(name));
 * }
 * ```
 */
export function assertFactoryCall(decoratorName: string, args: ArrayLike<unknown>): void {
  const [first, second] = [args[0], args[1]];
  const standard = typeof first === 'function' && isStandardContext(second);
  const legacy =
    (typeof first === 'object' || typeof first === 'function') &&
    first !== null &&
    (typeof second === 'string' || typeof second === 'symbol') &&
    args.length === 3;
  if (standard || legacy) throw misuse(decoratorName, 'a method directly, without calling it');
}

type MetadataReflect = typeof Reflect & {
  getOwnMetadataKeys?: (target: object) => unknown[];
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
};

/**
 * Makes `wrapped` look like `original`: name, length, own properties and reflect-metadata.
 * Used by every wrapper of the package, so a decorated method stays indistinguishable to frameworks.
 */
export function copyFunctionMetadata(original: AnyFunction, wrapped: AnyFunction): void {
  for (const key of Reflect.ownKeys(original)) {
    if (key === 'prototype' || key === 'arguments' || key === 'caller') continue;
    const descriptor = Object.getOwnPropertyDescriptor(original, key);
    if (descriptor === undefined) continue;
    try {
      Object.defineProperty(wrapped, key, descriptor);
    } catch {
      // Non-configurable properties of the wrapper stay as they are.
    }
  }
  const reflect = Reflect as MetadataReflect;
  if (
    typeof reflect.getOwnMetadataKeys === 'function' &&
    typeof reflect.getOwnMetadata === 'function' &&
    typeof reflect.defineMetadata === 'function'
  ) {
    for (const key of reflect.getOwnMetadataKeys(original)) {
      reflect.defineMetadata(key, reflect.getOwnMetadata(key, original), wrapped);
    }
  }
}
