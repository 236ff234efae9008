import { type AnyFunction, type DecoratedMethod, findThroughWrappers } from '../core/decorators.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { argumentKey } from './argument-key.js';
import { type DecorationSite, shortHash } from './decoration-site.js';
import { CacheKeyConflictError } from './errors.js';

/** The keys of one cached method or function, as its wrapper computes them on each call. @internal */
export interface KeyFactory {
  /** The key of a call with one string or number argument (an id, most often). */
  single(self: unknown, arg: string | number): string;
  general(self: unknown, args: unknown[]): string;
}

/** A `key` option: a fixed string or a function of the arguments. @internal */
export type KeyOption = string | ((...args: any[]) => string);

/** Keys given by the user, used exactly as written. @internal */
export function explicitKeys(key: KeyOption): KeyFactory {
  const general = (_self: unknown, args: unknown[]) => explicitKey(key, args);
  return { single: (self, arg) => general(self, [arg]), general };
}

/** The key a `key` option gives for `args`. @internal */
export function explicitKey(key: KeyOption, args: unknown[]): string {
  if (typeof key === 'string') return key;
  const computed = key(...args);
  if (typeof computed !== 'string' || computed === '') {
    throw new InvalidArgumentError(`the key function returned ${describeValue(computed)}`, {
      argument: 'key',
      value: computed,
      expected: 'a non-empty string',
    });
  }
  return computed;
}

/**
 * The default keys of a `cached()` function: its name, `@` and the hash of its site, then the
 * arguments. Claimed at once, so a second function deriving the same keys is refused where it is
 * made.
 *
 * @internal
 */
export function functionKeys(
  fn: AnyFunction,
  namespace: string | undefined,
  site: DecorationSite,
): KeyFactory {
  const base = baseOf(fn.name, site);
  claim({ namespace, base, owner: fn, label: fn.name, site, kind: 'function' });
  const memo = new Map<unknown, string>();
  return {
    single: (_self, arg) => remembered(memo, base, arg),
    general: (_self, args) => `${base}:${argumentKey(args)}`,
  };
}

/**
 * The default keys of a cached method: `Class.method` with the class of `this` at call time (a
 * subclass gets keys of its own, since the method may read its fields), `@` and the hash of the
 * decorator's site, then the arguments. Standard decorators do not see the class, so each class is
 * claimed when the method first runs for it. Keys of single-id calls are remembered per class: a
 * key string built once also keeps its hash, which every memory-tier lookup would otherwise
 * compute again.
 *
 * @internal
 */
export function methodKeys(
  method: DecoratedMethod,
  namespace: string | undefined,
  site: DecorationSite,
): KeyFactory {
  interface PerClass {
    base: string;
    memo: Map<unknown, string>;
  }
  const labelOf = (self: unknown) =>
    `${runtimeClass(self) ?? method.className(self)}.${method.methodName}`;
  const byClass = new WeakMap<object, PerClass>();
  let detached: PerClass | undefined;
  let lastOwner: object | undefined;
  let lastRecord: PerClass | undefined;
  const perClass = (self: unknown): PerClass => {
    const owner =
      typeof self === 'function'
        ? self
        : self !== null && typeof self === 'object'
          ? (self as { constructor?: object }).constructor
          : undefined;
    if (owner === undefined || owner === null) {
      detached ??= { base: baseOf(labelOf(self), site), memo: new Map() };
      return detached;
    }
    // Most call sites see one class: check it before the WeakMap.
    if (owner === lastOwner) return lastRecord!;
    let found = byClass.get(owner);
    if (found === undefined) {
      const label = labelOf(self);
      const base = baseOf(label, site);
      // Before remembering the class: a refused class stays refused on every call.
      claim({ namespace, base, owner, label, site, kind: 'class' });
      found = { base, memo: new Map() };
      byClass.set(owner, found);
    }
    lastOwner = owner;
    lastRecord = found;
    return found;
  };
  return {
    single: (self, arg) => {
      const { base, memo } = perClass(self);
      return remembered(memo, base, arg);
    },
    general: (self, args) => `${perClass(self).base}:${argumentKey(args)}`,
  };
}

function remembered(memo: Map<unknown, string>, base: string, arg: string | number): string {
  let key = memo.get(arg);
  if (key === undefined) {
    key = `${base}:${argumentKey([arg])}`;
    // Bounded; emptied when full.
    if (memo.size >= 10_000) memo.clear();
    memo.set(arg, key);
  }
  return key;
}

/** `label@hash`: the site's hash, or the label's own when the site is unknown. */
function baseOf(label: string, site: DecorationSite): string {
  return `${label}@${site.hash ?? shortHash(label)}`;
}

/** The name of the class of `self` (or of `self` itself for a static method), if it has one. */
function runtimeClass(self: unknown): string | undefined {
  if (typeof self === 'function') return self.name || undefined;
  if (self === null || typeof self !== 'object') return undefined;
  return (self as { constructor?: { name?: string } }).constructor?.name || undefined;
}

interface Claim {
  namespace: string | undefined;
  base: string;
  owner: object;
  label: string;
  site: DecorationSite;
  kind: 'function' | 'class';
}

interface Held extends Omit<Claim, 'owner'> {
  // Weak, so a function or class that is gone frees its keys (factories called per request).
  owner: WeakRef<object>;
}

interface Claims {
  readonly held: Map<string, Held>;
  readonly released: FinalizationRegistry<string>;
}

const SLOT = Symbol.for('@revcopy/enterprise/cache-key-claims');

/**
 * Process-wide, on `globalThis` so the ESM and CommonJS builds loaded together check each other;
 * and for every cache, since two caches may share one remote tier.
 */
function claims(): Claims {
  const holder = globalThis as { [SLOT]?: Claims };
  if (holder[SLOT] === undefined) {
    const held = new Map<string, Held>();
    const released = new FinalizationRegistry<string>((id) => {
      if (held.get(id)?.owner.deref() === undefined) held.delete(id);
    });
    holder[SLOT] = { held, released };
  }
  return holder[SLOT];
}

/** Records who derives `base` in `namespace`; throws when someone else still does. */
function claim(next: Claim): void {
  const { held: claimed, released } = claims();
  // A namespace has no control characters; the empty one stands for the cache's default.
  const id = `${next.namespace ?? ''}\u0000${next.base}`;
  const held = claimed.get(id);
  const holder = held?.owner.deref();
  if (holder === next.owner) return;
  if (held !== undefined && holder !== undefined) throw conflict(held, next);
  claimed.set(id, { ...next, owner: new WeakRef(next.owner) });
  released.register(next.owner, id);
}

function conflict(first: Omit<Claim, 'owner'>, second: Claim): CacheKeyConflictError {
  const where = (site: DecorationSite) =>
    site.location ?? 'code with no script name (eval, new Function)';
  const other =
    second.kind === 'function'
      ? 'a different function still in use'
      : 'in a different class of the same name';
  const namespace =
    second.namespace === undefined
      ? "the cache's default namespace"
      : `namespace '${second.namespace}'`;
  return new CacheKeyConflictError(
    `${second.label} at ${where(second.site)} would derive the default cache keys ` +
      `'${second.base}:…' in ${namespace}, as ${first.label} at ${where(first.site)} ` +
      `(${other}) already does: each would answer the other's calls. Give it a \`key\` option ` +
      '(a function of the arguments), or a `namespace` of its own (one per tenant, say, when a ' +
      'factory makes it).',
    {
      namespace: second.namespace,
      base: second.base,
      first: { label: first.label, site: first.site.location },
      second: { label: second.label, site: second.site.location },
    },
  );
}

// From each cached wrapper to its keys, for `cacheKeyOf`.
const keysOfWrapper = new WeakMap<AnyFunction, KeyFactory>();

/** Lets `cacheKeyOf` find the keys of `wrapper`. @internal */
export function registerKeys(wrapper: AnyFunction, keys: KeyFactory): void {
  keysOfWrapper.set(wrapper, keys);
}

type Instance<T> = T extends abstract new (...args: any) => infer I ? I : T;
type MethodOf<T> = { [K in keyof T]-?: T[K] extends AnyFunction ? K : never }[keyof T];
type ArgumentsOf<T, K> = K extends keyof T
  ? T[K] extends AnyFunction
    ? Parameters<T[K]>
    : never
  : never;

/**
 * The key a cached function or a `@Cached` method stores its result under for the given arguments:
 * the default key (`Class.method@site:[arguments]`, whose site part no one should write by hand)
 * or the one its `key` option gives. For `@CachePut` and `@CacheEvict`, and for reading an entry
 * with `cache.get`. A method is named on its class (or on an instance): the class's name is part of
 * the key, as it is of `this`'s class in a call. Throws `InvalidArgumentError` when the target is
 * not cached.
 *
 * @example
 * ```ts
 * class UserService {
 *   @Cached({ namespace: 'users' })
 *   async getUserProfile(userId: string) { return db.users.find(userId); }
 *
 *   @CachePut({ namespace: 'users', key: (user: User) => cacheKeyOf(UserService, 'getUserProfile', user.id) })
 *   async updateUser(user: User) { return db.users.save(user); }
 * }
 * const getProduct = cached({ namespace: 'products' }, async function getProduct(id: string) { ... });
 * await cache.delete(cacheKeyOf(getProduct, '42'), { namespace: 'products' });
 * ```
 */
export function cacheKeyOf<F extends AnyFunction>(fn: F, ...args: Parameters<F>): string;
export function cacheKeyOf<T extends object, K extends MethodOf<Instance<T>>>(
  target: T,
  method: K,
  ...args: ArgumentsOf<Instance<T>, K>
): string;
export function cacheKeyOf<T extends abstract new (...args: any) => any, K extends MethodOf<T>>(
  target: T,
  method: K,
  ...args: ArgumentsOf<T, K>
): string;
export function cacheKeyOf(target: unknown, ...rest: unknown[]): string {
  const direct = lookup(target);
  if (direct !== undefined) return keyFor(direct, undefined, rest);
  const [method, ...args] = rest;
  if (
    (typeof target === 'function' || (typeof target === 'object' && target !== null)) &&
    (typeof method === 'string' || typeof method === 'symbol')
  ) {
    const holder = target as Record<string | symbol, unknown>;
    if (typeof target === 'function') {
      // An instance method first: its class's prototype stands for an instance.
      const prototype = (target as { prototype?: Record<string | symbol, unknown> }).prototype;
      const onPrototype = prototype == null ? undefined : lookup(prototype[method]);
      if (onPrototype !== undefined) return keyFor(onPrototype, prototype, args);
    }
    const own = lookup(holder[method]);
    if (own !== undefined) return keyFor(own, target, args);
  }
  const what =
    typeof method === 'string' || typeof method === 'symbol'
      ? `has no @Cached or @CachePut method ${String(method)}`
      : 'is not a function made by cached()';
  const name =
    typeof target === 'function' ? target.name || 'an anonymous function' : describeValue(target);
  throw new InvalidArgumentError(`cacheKeyOf: ${name} ${what}`, {
    argument: 'target',
    value: target,
    expected: 'a cached function, or a class (or instance) and the name of a cached method',
  });
}

function lookup(candidate: unknown): KeyFactory | undefined {
  return findThroughWrappers(candidate, (fn) => keysOfWrapper.get(fn));
}

function keyFor(keys: KeyFactory, self: unknown, args: unknown[]): string {
  const [first] = args;
  return args.length === 1 && (typeof first === 'string' || typeof first === 'number')
    ? keys.single(self, first)
    : keys.general(self, args);
}
