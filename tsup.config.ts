import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { defineConfig } from 'tsup';
import { DOCS_PAGE_DIR, writeDocsFiles } from './src/monitoring/docs/files.js';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'performance/index': 'src/entries/performance.ts',
    'cache/index': 'src/entries/cache.ts',
    'tasks/index': 'src/entries/tasks.ts',
    'alerts/index': 'src/entries/alerts.ts',
    'security/index': 'src/entries/security.ts',
    'resilience/index': 'src/entries/resilience.ts',
    'analytics/index': 'src/entries/analytics.ts',
    'maintenance/index': 'src/entries/maintenance.ts',
    'monitoring/index': 'src/entries/monitoring.ts',
    'adapters/express': 'src/adapters/express.ts',
    'adapters/fastify': 'src/adapters/fastify.ts',
    'adapters/koa': 'src/adapters/koa.ts',
    'adapters/hono': 'src/adapters/hono.ts',
    'adapters/nestjs': 'src/adapters/nestjs.ts',
    'adapters/node': 'src/adapters/node.ts',
    'testing/index': 'src/testing/index.ts',
    'cli/main': 'src/cli/main.ts',
    // Not an export: the script sandboxed task handlers' worker threads and processes start.
    'tasks/sandbox-runner': 'src/tasks/sandbox/runner.ts',
  },
  format: ['esm', 'cjs'],
  // Members marked @internal are the package's own plumbing: keep them out of the public types.
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // Gives the CJS build an `import.meta.url`, used to resolve optional peers relative to the package.
  shims: true,
  splitting: true,
  treeshake: true,
  // The `/docs` page's files, Swagger UI's bundle among them, go next to the built code: the
  // package ships them (users never install swagger-ui-dist) and the router reads them on the
  // first request to the page.
  async onSuccess() {
    const swagger = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json');
    writeDocsFiles('src/monitoring/docs', dirname(swagger), `dist/${DOCS_PAGE_DIR}`);
  },
});
