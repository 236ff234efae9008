import { packageInfo } from '../info.js';
import { ModuleVersions } from '../module-versions.js';
import { openApiDocument } from '../openapi.js';
import { redactSettings } from '../redact.js';
import { jsonResponse as json, PROMETHEUS_TYPE } from '../responses.js';
import { ROUTES } from '../routes.js';
import type { HandlerContext, Handlers } from './types.js';

/** @internal The endpoints about the router and the instance (index, info, metrics, OpenAPI). */
export function metaHandlers({
  enterprise,
  tasks,
  basePath,
  secured,
  readTimeoutMs,
}: HandlerContext): Handlers<'index' | 'metrics' | 'info' | 'openapi'> {
  const versions = new ModuleVersions(enterprise, readTimeoutMs);
  return {
    index: () =>
      json({
        ...packageInfo(),
        endpoints: ROUTES.map((route) => ({
          method: route.method.toUpperCase(),
          path: route.path,
        })),
      }),
    metrics: () =>
      new Response(enterprise.performance.toPrometheus(), {
        headers: { 'content-type': PROMETHEUS_TYPE, 'cache-control': 'no-store' },
      }),
    info: async () => {
      const modules = {
        performance: true,
        // Built modules only: a module the process has not used yet is not observed.
        cache: enterprise.peek('cache') !== undefined,
        tasks: tasks.enabled,
        monitoring: true,
        security: enterprise.peek('security') !== undefined,
        alerts: enterprise.peek('alerts') !== undefined,
        analytics: enterprise.peek('analytics') !== undefined,
        history: enterprise.peek('history') !== undefined,
        cluster: enterprise.peek('cluster') !== undefined,
      };
      return json({
        ...packageInfo(),
        node: process.version,
        pid: process.pid,
        uptimeSeconds: process.uptime(),
        state: enterprise.state,
        environment: process.env.NODE_ENV ?? null,
        modules,
        // Each enabled module's version and what it runs on (bounded: a server down is `null`).
        moduleVersions: await versions.read(modules),
        // The resolved settings, secrets redacted (a URL's password, keys that name a secret).
        settings: infoSettings(enterprise),
      });
    },
    openapi: () =>
      // Without a basePath the router does not know where the host mounted it: '.' is the
      // document's own directory, so clients call `<mount>/health`, not `/health` at the root.
      json(openApiDocument(packageInfo(), basePath || '.', secured)),
  };
}

function infoSettings(enterprise: HandlerContext['enterprise']): unknown {
  const { clock: _clock, ...config } = enterprise.config;
  return redactSettings(config);
}
