// The process-wide registry of how each built-on-use module is built, started and stopped, and
// of the Prometheus collectors every instance exports. Each module's builder is registered by
// the entries that include the module (`src/compose/*.ts`), so an entry that leaves a module out
// never loads its code.
import type { BuiltOnUse, EnterpriseOptions, StartOptions } from '../enterprise-options.js';
import type { MetricFamily } from '../performance/prometheus.js';
import type { EnterpriseHost } from './host.js';

/**
 * @internal How the composition builds, starts and stops one built-on-use module, for instances
 * of type `Host` (`Enterprise`, which binds it).
 */
export interface HostedModuleBuilder<T, Host extends EnterpriseHost> {
  /** Checks the module's options when an instance is created, so bad ones fail at creation. */
  validate?(enterprise: Host, options: EnterpriseOptions): void;
  build(enterprise: Host, options: EnterpriseOptions): T;
  /** Starts a built module (at `start()`, or when first built on a started instance). */
  start(module: T, enterprise: Host, options: StartOptions): Promise<void> | undefined;
  /** At `start()` when the module was not built yet: whether to build and start it now. */
  buildAtStart?(options: EnterpriseOptions): boolean;
  /**
   * At `start()` when the module is neither built nor built then: may watch for a reason to
   * build it later (a task handler registered after start); returns what stops watching.
   */
  waitForUse?(enterprise: Host): () => void;
  /** `deadline` (epoch ms): during a graceful shutdown, when in-flight work must be done. */
  stop(module: T, deadline?: number): Promise<void> | undefined;
  /** Prometheus families, also declared (empty) before the module is built. */
  metrics?(prefix: string, module: T | undefined): MetricFamily[];
  /** Told when another module of the instance is built, to connect to it (alerts to tasks). */
  sibling?(enterprise: Host, name: keyof BuiltOnUse, options: EnterpriseOptions): void;
}

type Builders = {
  [Name in keyof BuiltOnUse]?: HostedModuleBuilder<BuiltOnUse[Name], EnterpriseHost>;
};

// Shared by the ESM and CommonJS builds, like the default instance, so a module registered by
// either build can be built by an instance of the other.
const BUILDERS = Symbol.for('@revcopy/enterprise/module-builders');

function builders(): Builders {
  const holder = globalThis as { [BUILDERS]?: Builders };
  holder[BUILDERS] ??= {};
  return holder[BUILDERS];
}

/** @internal The builder registered for `name`, if an entry that includes the module is loaded. */
export function moduleBuilder<Name extends keyof BuiltOnUse, Host extends EnterpriseHost>(
  name: Name,
): HostedModuleBuilder<BuiltOnUse[Name], Host> | undefined {
  return builders()[name] as HostedModuleBuilder<BuiltOnUse[Name], Host> | undefined;
}

/** @internal Registers how `name` is built; the first registration stays. */
export function registerHostedModule<Name extends keyof BuiltOnUse, Host extends EnterpriseHost>(
  name: Name,
  builder: HostedModuleBuilder<BuiltOnUse[Name], Host>,
): void {
  builders()[name] ??= builder as Builders[Name];
}

/** @internal Whether the entries loaded so far include the module `name`. */
export function isModuleLoaded(name: keyof BuiltOnUse): boolean {
  return builders()[name] !== undefined;
}

/** @internal Every built-on-use module, in the order an instance composes and starts them. */
export const MODULES: readonly (keyof BuiltOnUse)[] = [
  'cache',
  'tasks',
  'security',
  'analytics',
  'cluster',
  'history',
  'capacity',
  'alerts',
  'reports',
  'maintenance',
];

// Shared by both builds, like the builders.
const COLLECTORS = Symbol.for('@revcopy/enterprise/process-collectors');

function collectors(): Map<string, (prefix: string) => MetricFamily[]> {
  const holder = globalThis as { [COLLECTORS]?: Map<string, (prefix: string) => MetricFamily[]> };
  holder[COLLECTORS] ??= new Map();
  return holder[COLLECTORS];
}

/**
 * @internal Adds Prometheus families that every instance exports beside its modules': figures of
 * the process rather than of an instance (the circuit breakers of the process registry). Registered
 * by the entries that include them (`src/compose/*.ts`); the first registration of a name stays.
 */
export function registerProcessCollector(
  name: string,
  collector: (prefix: string) => MetricFamily[],
): void {
  if (!collectors().has(name)) collectors().set(name, collector);
}

/** @internal The families of every process collector registered so far. */
export function processMetrics(prefix: string): MetricFamily[] {
  return [...collectors().values()].flatMap((collector) => collector(prefix));
}
