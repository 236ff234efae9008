// Functions a module lends to the layers above it without their importing its code: the
// composition that includes the module provides them (src/compose/*.ts), and a layer above looks
// them up when a user asks it to use the module (the middleware's `security` option is checked by
// the security module's own rules). An entry that leaves the module out provides nothing, so its
// code is never loaded by an entry that does not include it.

// On `globalThis`, like the default instance: the ESM and CommonJS builds share what either provided.
const SLOT = Symbol.for('@revcopy/enterprise/module-services');

function services(): Map<string, unknown> {
  const holder = globalThis as { [SLOT]?: Map<string, unknown> };
  holder[SLOT] ??= new Map();
  return holder[SLOT];
}

/** @internal Provides `service` under `name` (`<module>.<what>`); the first one provided stays. */
export function provideService(name: string, service: unknown): void {
  const all = services();
  if (!all.has(name)) all.set(name, service);
}

/**
 * @internal The service provided under `name`, or `undefined` when no entry loaded so far includes
 * its module. The caller states its type (a type-only import of the module that provides it).
 */
export function providedService<T>(name: string): T | undefined {
  return services().get(name) as T | undefined;
}
