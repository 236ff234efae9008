// The built-on-use modules of one instance: each composed into the instance's lifecycle and
// metrics when the instance is created, built on first use (or at start), started, and stopped.
import { LifecycleError } from '../core/errors.js';
import type { Lifecycle } from '../core/lifecycle.js';
import type { BuiltOnUse, EnterpriseOptions, StartOptions } from '../enterprise-options.js';
import type { EnterpriseHost } from './host.js';
import { MODULES, moduleBuilder, processMetrics } from './module-registry.js';

/** @internal The modules an instance builds on use, and their part in its lifecycle. */
export class InstanceModules<Host extends EnterpriseHost> {
  readonly #host: Host;
  readonly #options: EnterpriseOptions;
  readonly #built: { [Name in keyof BuiltOnUse]?: BuiltOnUse[Name] } = {};
  readonly #waits: (() => void)[] = [];
  #startOptions: StartOptions = {};

  constructor(host: Host, options: EnterpriseOptions) {
    this.#host = host;
    this.#options = options;
  }

  /**
   * Validates each loaded module's options and adds every module to `lifecycle` and to the
   * host's metrics; called once, by the host's constructor.
   */
  compose(lifecycle: Lifecycle): void {
    for (const name of MODULES) this.#compose(name, lifecycle);
    const prefix = this.#host.config.performance.prometheusPrefix;
    this.#host.performance.addCollector(() => processMetrics(prefix));
  }

  /** What the modules are started with, from the host's first `start()`. */
  set startOptions(options: StartOptions) {
    this.#startOptions = { ...options };
  }

  /** The module `name` if it has been built; never builds it. */
  peek<Name extends keyof BuiltOnUse>(name: Name): BuiltOnUse[Name] | undefined {
    return this.#built[name];
  }

  /** The module `name`, built now if it was not; started too when the host is started. */
  get<Name extends keyof BuiltOnUse>(name: Name): BuiltOnUse[Name] {
    const existing = this.#built[name];
    if (existing !== undefined) return existing;
    const module = this.#build(name);
    // A module first used after start() still gets started (subscriptions, workers, scheduler).
    const state = this.#host.state;
    if (state === 'started' || state === 'starting') {
      const builder = moduleBuilder<Name, Host>(name)!;
      void builder.start(module, this.#host, this.#startOptions)?.catch((error) => {
        this.#host.logger.error({ err: error }, `${name} failed to start`);
      });
    }
    return module;
  }

  #compose<Name extends keyof BuiltOnUse>(name: Name, lifecycle: Lifecycle): void {
    moduleBuilder<Name, Host>(name)?.validate?.(this.#host, this.#options);
    const prefix = this.#host.config.performance.prometheusPrefix;
    // Looked up when called: a module whose entry is imported after this instance was created
    // still gets its families and its lifecycle.
    this.#host.performance.addCollector(
      () => moduleBuilder<Name, Host>(name)?.metrics?.(prefix, this.#built[name]) ?? [],
    );
    lifecycle.add({
      name,
      start: () => {
        const current = moduleBuilder<Name, Host>(name);
        if (current === undefined) return undefined;
        let module = this.#built[name];
        if (module === undefined && current.buildAtStart?.(this.#options) === true)
          module = this.#build(name);
        if (module !== undefined) return current.start(module, this.#host, this.#startOptions);
        const undo = current.waitForUse?.(this.#host);
        if (undo !== undefined) this.#waits.push(undo);
        return undefined;
      },
      stop: (deadline) => {
        for (const undo of this.#waits.splice(0)) undo();
        const module = this.#built[name];
        return module === undefined
          ? undefined
          : moduleBuilder<Name, Host>(name)?.stop(module, deadline);
      },
    });
  }

  #build<Name extends keyof BuiltOnUse>(name: Name): BuiltOnUse[Name] {
    const builder = moduleBuilder<Name, Host>(name);
    if (builder === undefined) {
      throw new LifecycleError(
        `the ${name} module is not loaded: import it from "@revcopy/enterprise/${name}" (or "@revcopy/enterprise")`,
        { module: name },
      );
    }
    const state = this.#host.state;
    if (state === 'stopping' || state === 'stopped') {
      throw new LifecycleError(
        `the ${name} of an instance that has been shut down cannot be built; use the current instance (getEnterprise())`,
        { state },
      );
    }
    const module = builder.build(this.#host, this.#options);
    this.#built[name] = module;
    for (const other of MODULES)
      if (other !== name)
        moduleBuilder<typeof other, Host>(other)?.sibling?.(this.#host, name, this.#options);
    return module;
  }
}
