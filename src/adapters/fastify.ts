/**
 * `@revcopy/enterprise/fastify`: one plugin that instruments every request of the application and
 * serves the monitoring router under a prefix, for Fastify 4 and 5. It does not import Fastify.
 *
 * @packageDocumentation
 */
// The default instance needs the composition root, which adapter entries load (modules may not).
import '../enterprise.js';
import {
  RequestInstrumentation,
  type RequestInstrumentationOptions,
} from '../monitoring/request-instrumentation.js';
import {
  type FastifyReplyLike,
  type FastifyRequestLike,
  fastifyRoute,
  instrumentationHook,
} from './fastify-hook.js';
import { DEFAULT_PREFIX, MonitoringMount, type MonitoringMountOptions } from './mount.js';

export type {
  MiddlewareSecurityOptions,
  RequestInstrumentationOptions,
  RequestLogEntry,
  RequestLogOptions,
  RouteRateLimit,
  SecurityRefusal,
} from '../monitoring/request-instrumentation.js';
export type { LifecycleOptions, MonitoringMountOptions } from './mount.js';

/** Options of {@link enterprisePlugin}. */
export interface EnterprisePluginOptions extends MonitoringMountOptions {
  /** Where the monitoring router answers. @defaultValue '/api/v1/monitoring' */
  prefix?: string;
  /**
   * Instrument every request of the application: options, `true`, or `false` for none. Its
   * `security` option (`instrument: { security: true }`) has every request inspected by the
   * instance's security module in the `onRequest` hook: a refused one is answered 403 or 429 with
   * a JSON body before routing, its handler never run.
   * @defaultValue true
   */
  instrument?: boolean | RequestInstrumentationOptions;
  /** Serve the monitoring router (`false`: the instrumentation alone). @defaultValue true */
  monitoring?: boolean;
}

/** The parts of a Fastify instance the plugin uses. */
interface FastifyInstanceLike {
  addHook(name: string, hook: (...args: any[]) => unknown): unknown;
  register(plugin: (instance: any, options: any) => Promise<void>, options?: object): unknown;
  route(options: object): unknown;
  removeAllContentTypeParsers?(): void;
  addContentTypeParser(type: string, options: object, parser: (...args: any[]) => void): void;
}

/**
 * Registers the enterprise on a Fastify application. Every request gets a correlation id (inbound
 * `x-request-id` reused when valid, echoed), runs in its request context, receives basic
 * security headers (`instrument: { securityHeaders: 'helmet' }` for all of helmet's), is timed as `http.request` (route template, method, status class) and logged
 * in one line. The monitoring router answers under `prefix`. The instance starts when the
 * application is ready; `app.close()` ends open event streams and shuts it down.
 *
 * The plugin applies to the whole application, like one wrapped with `fastify-plugin` (it sets
 * the same `skip-override` marker itself rather than depending on that package).
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { enterprisePlugin } from '@revcopy/enterprise/fastify';
 *
 * const app = Fastify();
 * await app.register(enterprisePlugin, { prefix: '/api/v1/monitoring', auth: process.env.MONITORING_TOKEN });
 * app.get('/users/:id', async (req) => ({ id: (req.params as { id: string }).id }));
 * await app.listen({ port: 3000 });
 * ```
 */
export async function enterprisePlugin(
  fastify: FastifyInstanceLike,
  options: EnterprisePluginOptions = {},
): Promise<void> {
  const { instrument = true, monitoring = true, ...mountOptions } = options ?? {};
  // Fastify passes the prefix of register() through: the mount applies it to its own routes.
  const mount = monitoring
    ? new MonitoringMount({ ...mountOptions, start: false }, DEFAULT_PREFIX)
    : undefined;
  const enterprise = mount?.enterprise ?? mountOptions.enterprise;

  if (instrument !== false) {
    const instrumentation = new RequestInstrumentation({
      enterprise,
      ...(typeof instrument === 'object' ? instrument : {}),
    });
    fastify.addHook('onRequest', instrumentationHook(instrumentation));
  }

  if (mount === undefined) return;
  if (options.start ?? true) fastify.addHook('onReady', async () => mount.start());
  // preClose runs before the server stops accepting: ending event streams there keeps close()
  // from waiting on a dashboard left open.
  fastify.addHook('preClose', async () => {
    await mount.router.close().catch(() => undefined);
  });
  fastify.addHook('onClose', async () => mount.close());

  await fastify.register(
    async (child: FastifyInstanceLike) => {
      // The router reads what it needs itself (a JSON body for the alert actions, none for the
      // others): accept any body rather than answer 415 before it sees the request. Encapsulated,
      // so the host's parsers stay.
      child.removeAllContentTypeParsers?.();
      child.addContentTypeParser(
        '*',
        { parseAs: 'buffer' },
        (_request: unknown, body: Buffer, done: (error: null, body: Buffer) => void) => {
          done(null, body);
        },
      );
      const handler = async (request: FastifyRequestLike, reply: FastifyReplyLike) => {
        // The route Fastify matched holds every prefix above ours too (a plugin registered inside
        // `register(..., { prefix: '/api' })`): strip as many segments as it has, not our length.
        const template = (fastifyRoute(request) ?? mount.prefix).replace(/\/?\*$/, '');
        const relative = stripSegments(request.url, template);
        reply.hijack();
        await mount.handleNode(
          request.raw,
          reply.raw,
          relative,
          request.body,
          template === '/' ? '' : template,
        );
      };
      child.route({ method: ALL_METHODS, url: '/', handler });
      child.route({ method: ALL_METHODS, url: '/*', handler });
    },
    { prefix: mount.prefix },
  );
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The path and query of `url` below the mount `template` (`/api/v1/monitoring`, or
 * `/:tenant/monitoring`): as many leading segments removed as the template has, so parameters and
 * outer prefixes are both accounted for.
 */
function stripSegments(url: string, template: string): string {
  const depth = template === '' || template === '/' ? 0 : template.split('/').length - 1;
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const mounted = path
    .split('/')
    .slice(0, depth + 1)
    .join('/');
  const rest = url.slice(mounted.length);
  return rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
}

// Fastify's own markers, as fastify-plugin sets them: apply the hooks to the parent instance and
// give the plugin a readable name in Fastify's plugin tree.
Object.assign(enterprisePlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@revcopy/enterprise',
  [Symbol.for('plugin-meta')]: { name: '@revcopy/enterprise', fastify: '>=4' },
});
