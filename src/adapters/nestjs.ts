/**
 * `@revcopy/enterprise/nestjs`: `EnterpriseModule.forRoot()` — the enterprise middleware and the
 * monitoring router mounted on the application's HTTP server, the instance's lifecycle tied to the
 * application's, and discovery of providers whose methods carry `@BackgroundTask`. For NestJS 10
 * and 11 on the Express platform (the default) or the Fastify platform.
 *
 * `@nestjs/common` and `@nestjs/core` are loaded when `forRoot()` is called, never at import.
 *
 * @packageDocumentation
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { MissingDependencyError } from '../core/errors.js';
import { configure, getEnterprise } from '../enterprise/process-default.js';
import type { Enterprise, EnterpriseOptions } from '../enterprise.js';
import type { RequestInstrumentationOptions } from '../monitoring/request-instrumentation.js';
import { enterpriseMiddleware, monitoringRouter } from './express.js';
import { enterprisePlugin } from './fastify.js';
import type { MonitoringMountOptions } from './mount.js';
import { DEFAULT_PREFIX, onSignals } from './mount.js';
import { findTaskHandlers } from './task-discovery.js';

export type {
  MiddlewareSecurityOptions,
  RequestInstrumentationOptions,
  RequestLogEntry,
  RequestLogOptions,
  RouteRateLimit,
  SecurityRefusal,
} from '../monitoring/request-instrumentation.js';
export type { LifecycleOptions, MonitoringMountOptions } from './mount.js';

/** Options of {@link EnterpriseModule.forRoot}. */
export interface EnterpriseModuleOptions extends Omit<MonitoringMountOptions, 'enterprise'> {
  /**
   * The instance to use. @defaultValue the process default (`getEnterprise()`), which the
   * decorators (`@MonitorPerformance`, `@Cached`, `@BackgroundTask`) record into
   */
  enterprise?: Enterprise;
  /**
   * Options for a new process default instance, set with `configure()` when the module is
   * created, so decorated providers use it. Ignored when `enterprise` is given.
   */
  config?: EnterpriseOptions;
  /** Where the monitoring router answers. @defaultValue '/api/v1/monitoring' */
  prefix?: string;
  /**
   * Instrument every request: options, `true`, or `false` for none. `instrument: { security: true }`
   * (or `{ security: { rateLimits } }`) has each request inspected by the instance's security
   * module before Nest routes it, on either platform. @defaultValue true
   */
  instrument?: boolean | RequestInstrumentationOptions;
  /** Serve the monitoring router (`false`: the instrumentation alone). @defaultValue true */
  monitoring?: boolean;
  /**
   * Register the handlers of providers with `@BackgroundTask` methods on the instance's task
   * runner when the module initialises. @defaultValue true
   */
  discoverTasks?: boolean;
}

/** What {@link EnterpriseModule.forRoot} returns: a NestJS `DynamicModule`. */
export interface EnterpriseDynamicModule {
  module: typeof EnterpriseModule;
  global: boolean;
  // Nest's own types (DynamicModule) are not imported: the package does not depend on them.
  imports: any[];
  providers: any[];
  exports: any[];
}

/** Injection token of the options given to `forRoot()`. */
export const ENTERPRISE_MODULE_OPTIONS = Symbol.for('@revcopy/enterprise/nestjs-options');
/** Injection token of the {@link Enterprise} instance the module uses; inject it with `@Inject(ENTERPRISE)`. */
export const ENTERPRISE = Symbol.for('@revcopy/enterprise/nestjs-enterprise');

interface NestCommon {
  Module: (metadata: object) => ClassDecorator;
  Global: () => ClassDecorator;
  Inject: (
    token: unknown,
  ) => (target: object, key: string | symbol | undefined, index: number) => void;
}
interface NestCore {
  DiscoveryModule: new (...args: any[]) => unknown;
  DiscoveryService: new (...args: any[]) => DiscoveryServiceLike;
  HttpAdapterHost: new (...args: any[]) => { httpAdapter?: HttpAdapterLike };
}
interface DiscoveryServiceLike {
  getProviders(): { instance: unknown; isDependencyTreeStatic?: () => boolean }[];
  getControllers(): { instance: unknown; isDependencyTreeStatic?: () => boolean }[];
}
interface HttpAdapterLike {
  getType(): string;
  getInstance(): any;
}

const require = createRequire(import.meta.url);

function load<T>(name: string): T {
  try {
    return require(name) as T;
  } catch (error) {
    throw new MissingDependencyError(name, 'EnterpriseModule (@revcopy/enterprise/nestjs)', error);
  }
}

let decorated = false;

/**
 * The NestJS module. `forRoot()` makes it global and exports the {@link ENTERPRISE} instance.
 *
 * On the Express platform it registers the enterprise middleware (correlation id, request context,
 * security headers, `http.request` timing with Nest's route templates, one log line per request)
 * and the monitoring router under `prefix` on the underlying Express app as the module is created,
 * ahead of Nest's body parser and routes; on the Fastify platform it registers the Fastify plugin.
 * The instance starts on `onApplicationBootstrap` and shuts down on `onApplicationShutdown` (with
 * `app.enableShutdownHooks()`, on SIGTERM too); event streams end before the server closes.
 *
 * `@MonitorPerformance` and `@Cached` methods of providers need nothing: they bind to the default
 * instance at call time. Providers with `@BackgroundTask` methods are registered on the task runner
 * when the module initialises.
 *
 * @example
 * ```ts
 * import { Module } from '@nestjs/common';
 * import { EnterpriseModule } from '@revcopy/enterprise/nestjs';
 *
 * @Module({
 *   imports: [EnterpriseModule.forRoot({ auth: process.env.MONITORING_TOKEN })],
 *   providers: [UserService],
 * })
 * export class AppModule {}
 * ```
 */
export class EnterpriseModule {
  readonly #options: EnterpriseModuleOptions;
  readonly #enterprise: Enterprise;
  readonly #discovery: DiscoveryServiceLike;
  #removeSignals: (() => void) | undefined;
  readonly #taskHandlers: string[] = [];
  #closeRouter: (() => Promise<void>) | undefined;

  /** @internal Built by Nest from the providers of {@link EnterpriseModule.forRoot}. */
  constructor(
    options: EnterpriseModuleOptions,
    enterprise: Enterprise,
    discovery: DiscoveryServiceLike,
    adapterHost: { httpAdapter?: HttpAdapterLike } | undefined,
  ) {
    this.#options = options;
    this.#enterprise = enterprise;
    this.#discovery = discovery;
    const adapter = adapterHost?.httpAdapter;
    if (adapter !== undefined) this.#mountOn(adapter);
    const signals = options.shutdownOnSignals;
    if (signals) {
      this.#removeSignals = onSignals(
        signals === true ? ['SIGTERM', 'SIGINT'] : signals,
        async () => {
          await this.beforeApplicationShutdown();
          await this.#enterprise.shutdown();
        },
      );
    }
  }

  /**
   * The dynamic module: global, exporting {@link ENTERPRISE}.
   *
   * @example
   * ```ts
   * EnterpriseModule.forRoot({ prefix: '/ops/monitoring', auth: (req) => isAdmin(req), shutdownOnSignals: true });
   * ```
   */
  static forRoot(options: EnterpriseModuleOptions = {}): EnterpriseDynamicModule {
    const common = load<NestCommon>('@nestjs/common');
    const core = load<NestCore>('@nestjs/core');
    if (!decorated) {
      decorated = true;
      // Decorators applied by hand: the package is compiled without decorator metadata.
      common.Module({})(EnterpriseModule);
      common.Inject(ENTERPRISE_MODULE_OPTIONS)(EnterpriseModule, undefined, 0);
      common.Inject(ENTERPRISE)(EnterpriseModule, undefined, 1);
      common.Inject(core.DiscoveryService)(EnterpriseModule, undefined, 2);
      common.Inject(core.HttpAdapterHost)(EnterpriseModule, undefined, 3);
    }
    return {
      module: EnterpriseModule,
      global: true,
      imports: [core.DiscoveryModule],
      providers: [
        { provide: ENTERPRISE_MODULE_OPTIONS, useValue: options },
        {
          provide: ENTERPRISE,
          useFactory: () =>
            options.enterprise ??
            (options.config !== undefined ? configure(options.config) : getEnterprise()),
        },
      ],
      exports: [ENTERPRISE],
    };
  }

  /** Names of the tasks whose `@BackgroundTask` handlers were bound to providers at init. */
  get taskHandlers(): readonly string[] {
    return this.#taskHandlers;
  }

  /** The instance the module uses. */
  get enterprise(): Enterprise {
    return this.#enterprise;
  }

  #mountOn(adapter: HttpAdapterLike): void {
    const options = this.#options;
    const {
      instrument = true,
      monitoring = true,
      discoverTasks,
      config,
      ...mountOptions
    } = options;
    const enterprise = this.#enterprise;
    const type = adapter.getType();
    const instance = adapter.getInstance();
    if (type === 'fastify') {
      // The plugin ties itself to Fastify's own hooks; Nest's hooks below only start the instance.
      void instance.register(enterprisePlugin, {
        ...mountOptions,
        enterprise,
        instrument,
        monitoring,
        start: false,
        // The module listens for signals itself (below), once.
        shutdownOnSignals: false,
        prefix: options.prefix ?? DEFAULT_PREFIX,
      });
      return;
    }
    if (type !== 'express') {
      enterprise.logger.warn(
        { platform: type },
        'EnterpriseModule: unknown HTTP platform; requests are not instrumented and the monitoring router is not mounted',
      );
      return;
    }
    if (instrument !== false) {
      instance.use(
        enterpriseMiddleware({ enterprise, ...(typeof instrument === 'object' ? instrument : {}) }),
      );
    }
    if (monitoring) {
      const handler = monitoringRouter({
        ...mountOptions,
        enterprise,
        prefix: options.prefix ?? DEFAULT_PREFIX,
        start: false,
        shutdownOnClose: false,
        shutdownOnSignals: false,
      });
      this.#closeRouter = handler.close;
      instance.use((req: IncomingMessage, res: ServerResponse, next: () => void) =>
        handler(req, res, next),
      );
    }
  }

  /** @internal Nest hook: registers providers' `@BackgroundTask` handlers. */
  onModuleInit(): void {
    if (this.#options.discoverTasks === false) return;
    const seen = new Set<object>();
    for (const wrapper of [
      ...this.#discovery.getProviders(),
      ...this.#discovery.getControllers(),
    ]) {
      const instance = wrapper.instance;
      if (instance === null || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      this.#taskHandlers.push(...findTaskHandlers(instance, this.#enterprise));
    }
  }

  /** @internal Nest hook: starts the instance with the application. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.#options.start === false) return;
    await this.#enterprise.start();
  }

  /** @internal Nest hook: ends event streams before the HTTP server closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.#removeSignals?.();
    await this.#closeRouter?.();
  }

  /** @internal Nest hook: shuts the instance down after the application closed. */
  async onApplicationShutdown(): Promise<void> {
    if (this.#options.shutdownOnClose === false) return;
    await this.#enterprise.shutdown();
  }
}
