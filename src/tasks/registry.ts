import {
  type AnyFunction,
  assertFactoryCall,
  createMethodDecorator,
  type DualMethodDecorator,
} from '../core/decorators.js';
import { defaultInstance } from '../core/default-instance.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import type {
  SubmitArgs,
  SubmitOptions,
  TaskDefinitionOptions,
  TaskHandler,
  TaskName,
  TaskPayload,
} from './api-types.js';
import {
  type BackgroundTaskOptions,
  type SandboxedTaskOptions,
  type SandboxSpec,
  splitSandbox,
} from './sandbox/spec.js';
import { checkDefinitionOptions, checkTaskName } from './validate.js';

/**
 * The default instance as `fn.submit()` uses it. Structural, so the registry does not depend on the
 * task manager, which depends on the registry.
 */
interface DefaultSubmitter {
  readonly tasks: {
    submit(name: TaskName, payload: unknown, options?: SubmitOptions): Promise<string>;
  };
}

/** A registered task kind: its name, defaults and how to reach its handler. */
export interface TaskDefinition {
  readonly name: string;
  readonly options: TaskDefinitionOptions;
  /** `Class.method` or the function's name, for messages. */
  readonly origin: string;
  /** What makes two registrations the same declaration (evaluated again) rather than a clash. */
  readonly identity: string;
  /** The handler and its `this`, or why there is none yet (a method without an instance). */
  resolve(): { fn: AnyFunction; thisArg: unknown } | { missing: string };
  /** Set when the tasks run in a sandbox (a worker thread or child process), not in `resolve()`. */
  readonly sandbox?: SandboxSpec;
}

interface MethodDefinition extends TaskDefinition {
  kind: 'method';
  methodName: string;
  /** The prototype (legacy) or the wrapper (standard) used to recognise instances. */
  prototype: object | undefined;
  wrapper: AnyFunction | undefined;
  /** Reads a private method off an instance (standard decorators' `access.get`). */
  resolveMethod?: (instance: object) => AnyFunction;
  bind(instance: object): void;
}

interface Registry {
  readonly definitions: Map<string, TaskDefinition>;
  /** Told about every new definition (a started manager opens a pool for a new queue). */
  readonly listeners: Set<(definition: TaskDefinition) => void>;
}

const SLOT = Symbol.for('@revcopy/enterprise/task-handlers');

/**
 * The process-wide handler registry. It lives on `globalThis` so the ESM and CommonJS builds,
 * loaded together, see the same handlers.
 *
 * @internal
 */
export function handlerRegistry(): Registry {
  const holder = globalThis as { [SLOT]?: Registry };
  holder[SLOT] ??= { definitions: new Map(), listeners: new Set() };
  return holder[SLOT];
}

function register(definition: TaskDefinition): void {
  const registry = handlerRegistry();
  const existing = registry.definitions.get(definition.name);
  // The same declaration evaluated again (hot reload, a test re-importing a module) replaces the
  // old one; two different handlers under one name is a mistake that would run the wrong code.
  if (existing !== undefined && existing.identity !== definition.identity) {
    throw new InvalidArgumentError(
      `task "${definition.name}" is already registered by ${existing.origin}; ${definition.origin} cannot register it too`,
      { argument: 'name', value: definition.name, expected: 'a task name not registered yet' },
    );
  }
  registry.definitions.set(definition.name, definition);
  for (const listener of [...registry.listeners]) {
    try {
      listener(definition);
    } catch {
      // A manager that cannot open a pool logs it itself.
    }
  }
}

/**
 * Registers the decorated method as the handler of task `name`. The method is called as
 * `instance.method(payload, context)` — the payload first, the {@link TaskContext} second — and
 * stays an ordinary method: calling it directly runs it inline.
 *
 * The handler needs an instance. Under standard decorators every `new` binds the new instance (the
 * latest one constructed handles the tasks); under `experimentalDecorators` (NestJS) call
 * {@link registerTaskHandlers} with the instance, e.g. in the constructor. Static methods need
 * neither.
 *
 * @example
 * ```ts
 * class AnalyticsService {
 *   @BackgroundTask('process_analytics', { queue: 'analytics', maxRetries: 5, timeout: '2m' })
 *   async processUserAnalytics(payload: { userId: number }, { signal }: TaskContext) {
 *     await this.compute(payload.userId, signal);
 *   }
 * }
 * new AnalyticsService(); // bound (standard decorators)
 * await submitTask('process_analytics', { userId: 123 });
 * ```
 */
export function BackgroundTask(name: string, options?: BackgroundTaskOptions): DualMethodDecorator {
  // biome-ignore lint/complexity/noArguments: the decorator's own arguments reveal a missing `()`.
  assertFactoryCall('BackgroundTask', arguments);
  checkTaskName(name);
  const split = splitSandbox(options);
  const checked = { ...checkDefinitionOptions(split.options) };
  let definition: MethodDefinition | undefined;
  const inner = createMethodDecorator('BackgroundTask', (original, site) => {
    const wrapper = function (this: unknown, ...args: unknown[]) {
      return original.apply(this, args);
    };
    definition = methodDefinition(name, checked, site.methodName, wrapper, split.sandbox);
    return wrapper;
  });
  function decorator(value: unknown, context: unknown, descriptor?: PropertyDescriptor) {
    const result = (inner as (...args: unknown[]) => unknown)(value, context, descriptor);
    const def = definition!;
    if (descriptor !== undefined && typeof context !== 'object') {
      // Legacy: `value` is the prototype, or the class for a static method.
      if (typeof value === 'function') {
        def.bind(value as object);
        (def as { origin: string }).origin = `${(value as Function).name}.${def.methodName}`;
      } else {
        def.prototype = value as object;
        (def as { origin: string }).origin =
          `${(value as { constructor?: Function }).constructor?.name ?? 'anonymous'}.${def.methodName}`;
      }
      register(def);
      return result;
    }
    const standard = context as ClassMethodDecoratorContext;
    if (standard.private) {
      const access = standard.access as { get(object: unknown): AnyFunction };
      def.resolveMethod = (instance) => access.get(instance);
    }
    // Runs for every new instance (or once with the class, for a static method).
    standard.addInitializer(function (this: unknown) {
      def.bind(this as object);
    });
    register(def);
    return result;
  }
  return decorator as DualMethodDecorator;
}

function methodDefinition(
  name: string,
  options: TaskDefinitionOptions,
  methodName: string,
  wrapper: AnyFunction,
  sandbox: SandboxSpec | undefined,
): MethodDefinition {
  let instance: object | undefined;
  const def: MethodDefinition = {
    kind: 'method',
    name,
    options,
    origin: `method ${methodName}`,
    identity: `method:${methodName}${sandbox === undefined ? '' : `:${sandbox.key}`}`,
    ...(sandbox === undefined ? {} : { sandbox }),
    methodName,
    prototype: undefined,
    wrapper,
    bind(target) {
      instance = target;
      const owner = typeof target === 'function' ? target : target.constructor;
      (def as { origin: string }).origin = `${owner?.name || 'anonymous'}.${methodName}`;
    },
    resolve() {
      if (instance === undefined) {
        return {
          missing: `task "${name}" is handled by method ${def.origin}, but no instance of its class is registered: construct one (standard decorators) or call registerTaskHandlers(instance)`,
        };
      }
      const fn = def.resolveMethod?.(instance) ?? (instance as Record<string, unknown>)[methodName];
      if (typeof fn !== 'function') {
        return {
          missing: `task "${name}": ${def.origin} is not a function on the registered instance`,
        };
      }
      return { fn: fn as AnyFunction, thisArg: instance };
    },
  };
  return def;
}

/**
 * Binds the `@BackgroundTask` methods of `instance` as handlers; resolves the task names bound.
 * Needed under `experimentalDecorators` (NestJS: call it in the constructor or `onModuleInit`),
 * and to choose an instance explicitly under standard decorators.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class ReportService {
 *   constructor() { registerTaskHandlers(this); }
 *   @BackgroundTask('generate_report') async generate(payload: { month: string }) { ... }
 * }
 * ```
 */
export function registerTaskHandlers(instance: object): string[] {
  if (instance === null || (typeof instance !== 'object' && typeof instance !== 'function')) {
    throw new InvalidArgumentError(
      `instance=${describeValue(instance)} is invalid: expected an object with @BackgroundTask methods`,
      { argument: 'instance', value: instance, expected: 'an object' },
    );
  }
  const bound: string[] = [];
  for (const definition of handlerRegistry().definitions.values()) {
    const def = definition as Partial<MethodDefinition>;
    if (def.kind !== 'method') continue;
    const matches =
      (def.prototype !== undefined &&
        Object.prototype.isPrototypeOf.call(def.prototype, instance)) ||
      (def.wrapper !== undefined && holds(instance, def.methodName!, def.wrapper));
    if (matches) {
      def.bind!(instance);
      bound.push(definition.name);
    }
  }
  return bound;
}

function holds(instance: object, key: string, wrapper: AnyFunction): boolean {
  for (let o: object | null = instance; o !== null; o = Object.getPrototypeOf(o)) {
    const own = Object.getOwnPropertyDescriptor(o, key);
    if (own !== undefined) return own.value === wrapper;
  }
  return false;
}

/** A handler registered with {@link backgroundTask}: the same function, plus how to submit it. */
export type TaskFunction<N extends string, H extends TaskHandler> = H & {
  /** The task name. */
  readonly taskName: N;
  /** Submits a task of this kind to the default instance; resolves its id. */
  submit(...args: SubmitArgs<N, Record<N, Parameters<H>[0]>>): Promise<string>;
};

/**
 * A task kind registered with `backgroundTask(name, { sandbox })`: its name and how to submit it.
 *
 * @example
 * ```ts
 * const resize = backgroundTask('resize_image', { sandbox: './dist/resize.js' });
 * await resize.submit({ url });
 * ```
 */
export interface SandboxedTask<N extends string> {
  /** The task name. */
  readonly taskName: N;
  /** Submits a task of this kind to the default instance; resolves its id. */
  submit(...args: SubmitArgs<N>): Promise<string>;
}

/**
 * Registers a plain function as the handler of task `name` (the twin of {@link BackgroundTask}).
 * Returns the same function, callable directly, with `taskName` and a typed `submit()`.
 *
 * @example
 * ```ts
 * export const sendWelcomeEmail = backgroundTask(
 *   'send_welcome_email',
 *   async (email: string, { attempt }) => mailer.send(email, 'welcome'),
 *   { maxRetries: 5, backoff: { delay: '10s' } },
 * );
 * await sendWelcomeEmail.submit('ada@example.com');
 *
 * // Or run it in a pool of worker threads: the file's default export is the handler.
 * export const resize = backgroundTask('resize_image', {
 *   sandbox: new URL('./resize-image.js', import.meta.url),
 *   timeout: '30s',
 * });
 * await resize.submit({ url });
 * ```
 */
export function backgroundTask<N extends TaskName>(
  name: N,
  options: SandboxedTaskOptions,
): SandboxedTask<N>;
export function backgroundTask<N extends TaskName, H extends TaskHandler<TaskPayload<N>>>(
  name: N,
  handler: H,
  options?: TaskDefinitionOptions,
): TaskFunction<N, H>;
export function backgroundTask(
  name: string,
  handler: TaskHandler | SandboxedTaskOptions,
  options?: TaskDefinitionOptions,
): TaskFunction<string, TaskHandler> | SandboxedTask<string> {
  checkTaskName(name);
  if (handler !== null && typeof handler === 'object' && 'sandbox' in handler) {
    const split = splitSandbox(handler, 'options');
    const sandbox = split.sandbox!;
    register({
      name,
      options: { ...checkDefinitionOptions(split.options) },
      origin: `sandbox ${sandbox.file}`,
      identity: `sandbox:${sandbox.key}`,
      sandbox,
      resolve: () => ({ missing: `task "${name}" runs in a sandbox` }),
    });
    const task = { taskName: name } as SandboxedTask<string>;
    Object.defineProperty(task, 'submit', { value: submitter(name) });
    return Object.freeze(task);
  }
  if (typeof handler !== 'function') {
    throw new InvalidArgumentError(`handler=${describeValue(handler)} is not a function`, {
      argument: 'handler',
      value: handler,
      expected: 'a function (payload, context) => result, or { sandbox: file }',
    });
  }
  const checked = { ...checkDefinitionOptions(options) };
  register({
    name,
    options: checked,
    origin: `function ${handler.name || name}`,
    identity: `function:${handler.name}`,
    resolve: () => ({ fn: handler as AnyFunction, thisArg: undefined }),
  });
  const task = handler as TaskFunction<string, TaskHandler>;
  if (!Object.hasOwn(task, 'taskName')) {
    Object.defineProperty(task, 'taskName', { value: name, configurable: true });
    Object.defineProperty(task, 'submit', { configurable: true, value: submitter(name) });
  }
  return task;
}

/** `submit()` of a registered task kind: submits to the default instance, looked up at call time. */
function submitter(name: string) {
  return (payload?: unknown, submitOptions?: SubmitOptions): Promise<string> => {
    try {
      // Looked up at call time, so it follows configure().
      return (defaultInstance() as unknown as DefaultSubmitter).tasks.submit(
        name as TaskName,
        payload,
        submitOptions,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * Removes task `name` from the process-wide registry (tests, hot reload). Resolves whether it was
 * registered.
 *
 * @example
 * ```ts
 * afterEach(() => unregisterTask('send_welcome_email'));
 * ```
 */
export function unregisterTask(name: string): boolean {
  return handlerRegistry().definitions.delete(name);
}
