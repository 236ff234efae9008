// Loads the built package the way users do, through its own name and exports map, in both module
// systems, and checks a decorated call is recorded. Run after `npm run build`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// Every entry point of the exports map (but package.json itself), as users import them.
const subpaths = Object.keys(manifest.exports)
  .filter((path) => path !== './package.json')
  .map((path) => (path === '.' ? manifest.name : `${manifest.name}/${path.slice(2)}`));

// Each entry point loads in both module systems and exports the same names from each.
for (const specifier of subpaths) {
  const fromEsm = Object.keys(await import(specifier)).filter((name) => name !== 'default');
  const fromCjs = Object.keys(require(specifier)).filter((name) => name !== '__esModule');
  assert.ok(fromEsm.length > 0, `${specifier} exports something`);
  assert.deepEqual(fromCjs.sort(), fromEsm.sort(), `${specifier}: same exports in ESM and CJS`);
}
console.log(`${subpaths.length} entry points load in ESM and CJS with the same exports: ok`);

// The conformance suites load without a test runner: the runner's functions are passed in.
for (const testing of [
  await import('@revcopy/enterprise/testing'),
  require('@revcopy/enterprise/testing'),
]) {
  for (const name of [
    'describeCacheTier',
    'describeTaskBackend',
    'describeAlertChannel',
    'describeAlertStore',
    'sampleNotification',
    'sampleAlert',
    'entryMeta',
    'eventually',
  ]) {
    assert.equal(typeof testing[name], 'function', `/testing export ${name}`);
  }
}

const esm = await import('@revcopy/enterprise');
const esmPerf = await import('@revcopy/enterprise/performance');
const cjs = require('@revcopy/enterprise');
const cjsPerf = require('@revcopy/enterprise/performance');

for (const [label, root, perf] of [
  ['esm', esm, esmPerf],
  ['cjs', cjs, cjsPerf],
]) {
  for (const name of [
    'createEnterprise',
    'configure',
    'getEnterprise',
    'MonitorPerformance',
    'monitorPerformance',
    'performanceContext',
    'performanceMonitor',
    'EnterpriseError',
    'ConfigError',
  ]) {
    assert.ok(name in root, `${label} root export ${name}`);
  }
  for (const name of [
    'MonitorPerformance',
    'monitorPerformance',
    'performanceContext',
    'performanceMonitor',
    'PerformanceMonitor',
  ]) {
    assert.ok(name in perf, `${label} /performance export ${name}`);
  }
  const enterprise = root.configure({ logLevel: 'silent' });
  const add = perf.monitorPerformance('smoke.add', (a, b) => a + b);
  assert.equal(add(2, 3), 5);
  assert.equal(enterprise.performance.getStats('smoke.add').windows.all.count, 1);
  assert.match(enterprise.performance.toPrometheus(), /operation="smoke\.add"/);
  await enterprise.shutdown();
  console.log(`${label}: ok`);
}

// Both builds loaded in one process (an ESM app with a CommonJS dependency) share the default
// instance and the request context.
{
  const enterprise = esm.configure({ logLevel: 'silent' });
  assert.equal(cjs.getEnterprise(), enterprise, 'one default instance across ESM and CJS');
  const fromCjs = cjsPerf.monitorPerformance('smoke.cjs', () => cjs.getCorrelationId());
  const seen = esm.withContext({ correlationId: 'req-42' }, () => fromCjs());
  assert.equal(seen, 'req-42', 'the CJS build sees the ESM request context');
  assert.equal(enterprise.performance.getStats('smoke.cjs').windows.all.count, 1);
  await enterprise.shutdown();
  console.log('esm + cjs in one process: ok');
}

// Importing must have no side effects: no timers or handles, no environment reads.
const probe = `
  const before = process.getActiveResourcesInfo().length;
  process.env.PERFORMANCE_MAX_METRICS = 'not-a-number';
  for (const specifier of ${JSON.stringify(subpaths)}) await import(specifier);
  // Module loading itself leaves short-lived file-close requests behind; let them finish first.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = process.getActiveResourcesInfo().length;
  if (after !== before) throw new Error('import created resources: ' + process.getActiveResourcesInfo());
  console.log('import is side-effect free: ok');
`;
execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
  stdio: ['ignore', 'inherit', 'inherit'],
});

// The root entry stays light: it loads none of the libraries the subpaths and tiers load on demand.
const light = `
  require('@revcopy/enterprise');
  const heavy = ['hono', 'cron-parser', 'luxon', 'ioredis', 'pino', 'msgpackr', 'pg', 'better-sqlite3', 'express', 'fastify', 'koa', '@nestjs'];
  const loaded = Object.keys(require.cache).filter((file) => heavy.some((name) => file.includes('/node_modules/' + name + '/')));
  if (loaded.length > 0) throw new Error('the root entry loaded ' + loaded.join(', '));
  require('@revcopy/enterprise/nestjs');
  if (Object.keys(require.cache).some((file) => file.includes('/node_modules/@nestjs/'))) {
    throw new Error('importing /nestjs loaded NestJS before EnterpriseModule.forRoot()');
  }
  console.log('root entry loads no optional or heavy library; /nestjs loads NestJS only when used: ok');
`;
execFileSync(process.execPath, ['-e', light], { stdio: ['ignore', 'inherit', 'inherit'] });

// The built router answers from dist, in both module systems, with the package's version.
for (const [label, monitoring] of [
  ['esm', await import('@revcopy/enterprise/monitoring')],
  ['cjs', require('@revcopy/enterprise/monitoring')],
]) {
  const enterprise = esm.createEnterprise({
    logLevel: 'silent',
    performance: { systemMetrics: false },
  });
  const router = monitoring.createMonitoringRouter({ enterprise, public: true });
  const info = await router.fetch(new Request('http://localhost/info'));
  assert.equal(info.status, 200);
  assert.equal(
    (await info.json()).version,
    manifest.version,
    `${label}: /info reports the version`,
  );
  const live = await router.fetch(new Request('http://localhost/health/live'));
  assert.equal(live.status, 200);
  const chart = await router.fetch(new Request('http://localhost/dashboard/assets/uplot.js'));
  assert.equal(chart.status, 200, `${label}: the dashboard's chart library is bundled`);
  // The /docs page and Swagger UI come from the files the build put in dist/docs-page (the build
  // code never reads swagger-ui-dist), linked from the page with their content hash.
  const docs = await router.fetch(new Request('http://localhost/docs'));
  assert.equal(docs.status, 200, `${label}: /docs is served`);
  const links = new Map(
    [...(await docs.text()).matchAll(/"docs\/assets\/([^"?]+)\?v=[\w-]+"/g)].map((m) => [
      m[1],
      m[0],
    ]),
  );
  for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css', 'docs.js', 'docs.css']) {
    assert.ok(links.has(file), `${label}: /docs links ${file}`);
    const asset = await router.fetch(
      new Request(`http://localhost/${links.get(file).slice(1, -1)}`),
    );
    assert.equal(asset.status, 200, `${label}: /docs/assets/${file}`);
    assert.equal(
      await asset.text(),
      readFileSync(new URL(`../dist/docs-page/${file}`, import.meta.url), 'utf8'),
      `${label}: ${file} is the shipped copy`,
    );
  }
  await router.close();
  await enterprise.shutdown();
  console.log(`${label}: monitoring router from dist: ok`);
}

// Sandboxed task handlers run from dist in both module systems: the runner script is found next
// to the built files and starts in a worker thread and in a child process.
{
  const dir = mkdtempSync(join(tmpdir(), 'enterprise-sandbox-'));
  const handler = join(dir, 'handler.mjs');
  writeFileSync(
    handler,
    `import { threadId } from 'node:worker_threads';
     export default (payload, context) => {
       context.progress(1);
       return { sum: payload.a + payload.b, threadId, pid: process.pid, attempt: context.attempt };
     };`,
  );
  try {
    for (const [label, tasksEntry] of [
      ['esm', await import('@revcopy/enterprise/tasks')],
      ['cjs', require('@revcopy/enterprise/tasks')],
    ]) {
      for (const kind of ['thread', 'process']) {
        const enterprise = esm.createEnterprise({
          logLevel: 'silent',
          performance: { systemMetrics: false },
        });
        enterprise.tasks.register('smoke_sandbox', { sandbox: { file: handler, kind } });
        await enterprise.start();
        const id = await enterprise.tasks.submit('smoke_sandbox', { a: 2, b: 3 });
        const done = await enterprise.tasks.waitFor(id, { timeout: 30 });
        assert.equal(done.result.sum, 5, `${label} ${kind}: the sandboxed handler ran`);
        if (kind === 'thread') assert.ok(done.result.threadId > 0, `${label}: ran in a thread`);
        else assert.notEqual(done.result.pid, process.pid, `${label}: ran in a child process`);
        await enterprise.shutdown();
        assert.equal(typeof tasksEntry.TaskSandboxCrashError, 'function');
        console.log(`${label}: sandboxed handler in a ${kind} from dist: ok`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
