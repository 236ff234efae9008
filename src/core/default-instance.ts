// The process default instance, reached by the modules without importing the composition root:
// `enterprise.ts` provides the factory, `configure()` replaces the instance, and each module
// reads the part it owns (the monitor, the cache, the task manager) from what is returned here.
import { LifecycleError } from './errors.js';

/** What this registry knows of an instance: enough to replace it. Modules read their own part. */
export interface DefaultInstance {
  shutdown(): Promise<void>;
}

type Listener = (next: DefaultInstance, previous: DefaultInstance | undefined) => void;

/**
 * The slot lives on `globalThis`, so the ESM and the CommonJS builds of this package, when both are
 * loaded in one process (an ESM app with a CommonJS dependency), share one default instance.
 */
interface Slot {
  instance: DefaultInstance | undefined;
  factory: (() => DefaultInstance) | undefined;
  /** Why the default could not be built from the environment, until it is replaced. */
  failure: unknown;
  warned: boolean;
  readonly listeners: Set<Listener>;
}

const SLOT = Symbol.for('@revcopy/enterprise/default-instance');

function slot(): Slot {
  const holder = globalThis as { [SLOT]?: Slot };
  holder[SLOT] ??= {
    instance: undefined,
    factory: undefined,
    failure: undefined,
    warned: false,
    listeners: new Set(),
  };
  return holder[SLOT];
}

/** @internal Called by the composition root when it loads; the first build's factory stays. */
export function provideDefaultFactory(factory: () => DefaultInstance): void {
  slot().factory ??= factory;
}

/**
 * @internal The default instance, built from the environment on first use. Throws `ConfigError`
 * when the environment holds an invalid value.
 */
export function defaultInstance(): DefaultInstance {
  const state = slot();
  if (state.instance === undefined) state.instance = build(state);
  return state.instance;
}

/**
 * @internal The default instance for a monitored call, or `undefined` when it cannot be built from
 * the environment. A typo in one variable must not make every decorated method throw: the call
 * runs unmonitored, and a process warning says why, once, until the default is replaced.
 */
export function defaultInstanceForCall(): DefaultInstance | undefined {
  const state = slot();
  if (state.instance !== undefined) return state.instance;
  if (state.failure !== undefined) return undefined;
  try {
    state.instance = build(state);
    return state.instance;
  } catch (error) {
    state.failure = error;
    if (!state.warned) {
      state.warned = true;
      process.emitWarning(
        `the default instance could not be created, so monitored calls run unmonitored until configure() is called: ${(error as Error)?.message ?? String(error)}`,
        { type: 'EnterpriseWarning', code: (error as { code?: string })?.code },
      );
    }
    return undefined;
  }
}

/** @internal Makes `next` the default and tells the listeners; returns the previous default. */
export function replaceDefaultInstance(next: DefaultInstance): DefaultInstance | undefined {
  const state = slot();
  const previous = state.instance;
  state.instance = next;
  state.failure = undefined;
  state.warned = false;
  for (const listener of state.listeners) listener(next, previous);
  return previous;
}

/** @internal Subscribes to replacements of the default instance; returns the unsubscribe function. */
export function onDefaultInstanceChange(listener: Listener): () => void {
  const { listeners } = slot();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function build(state: Slot): DefaultInstance {
  if (state.factory === undefined) {
    // Only reachable by importing a module file directly instead of a package entry.
    throw new LifecycleError(
      'no default instance can be built: import "@revcopy/enterprise" (or one of its subpath entries) first',
    );
  }
  return state.factory();
}

/**
 * @internal The part `name` of the default instance (`performance`, `cache`, `tasks`), read by
 * the module that owns it; the composition root guarantees the property's type.
 */
export function defaultPart<T>(name: string): T {
  return (defaultInstance() as unknown as Record<string, T>)[name] as T;
}

/** @internal {@link defaultPart} for a monitored or cached call: `undefined` when none can be built. */
export function defaultPartForCall<T>(name: string): T | undefined {
  return (defaultInstanceForCall() as unknown as Record<string, T> | undefined)?.[name];
}
