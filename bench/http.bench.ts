/**
 * npm run bench:http
 *
 * Requests per second of a hello-world Fastify 5 and Express 5 application on loopback, bare and
 * with the enterprise middleware (correlation id, request context, security headers, the
 * `http.request` timing and one log line per request), driven by autocannon.
 *
 * Each application runs in a child process of its own (so the load generator, in this process,
 * does not share its event loop); all of them listen at once and are measured interleaved, round
 * after round, starting with a different variant each round, each measurement after a short
 * warm-up of its own. Within a round the bare application is measured before and after every
 * variant, and the variant's ratio is taken against the mean of those two bare measurements,
 * seconds away from it. Each figure is the median round; the ratios' median is reported. The
 * middleware's log lines go to the child's stdout, which is /dev/null: the line is built,
 * serialized by pino and written, as in production, minus the reader at the other end of the pipe.
 * More variants show where the cost goes: the middleware with its log line off (`log: false`), an
 * AsyncLocalStorage context alone, the middleware's headers alone, and both in one bare hook (the
 * least any middleware with a request context and those headers costs); on request
 * (`BENCH_VARIANTS`), the middleware with all of helmet's headers (`securityHeaders: 'helmet'`).
 *
 * Many short rounds rather than a few long ones: this machine's speed drifts by tens of percent
 * within a minute, and only measurements taken seconds apart compare. On Linux with two CPUs or
 * more, the load generator is pinned to CPU 0 and the applications to the others (`taskset`), so
 * the scheduler never puts the two on one CPU or moves them mid-measurement (`BENCH_PIN=0`: no
 * pinning).
 *
 * `npm run bench:http:parts` (`--parts`) runs one Fastify application instead, whose hook switches
 * every 50 ms between a bare request context, the context with the headers, and the plugin's hook
 * with parts of its work off, and reports the CPU per request each part adds (BENCH_ROUNDS runs,
 * 5, of BENCH_DURATION, 20 s).
 *
 * Environment: BENCH_ROUNDS (8), BENCH_DURATION (1 second per measurement), BENCH_WARMUP (0.5 s),
 * BENCH_CONNECTIONS (10), BENCH_FRAMEWORKS (fastify,express), BENCH_VARIANTS (`|`-separated names,
 * `bare` always included).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** The part of autocannon's API used here (it ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
}) => Promise<AutocannonResult>;
/** Loaded by the load generator only: the application processes must not carry it. */
let autocannon: Autocannon | undefined;

const ROUNDS = intFromEnv('BENCH_ROUNDS', 8);
const DURATION = secondsFromEnv('BENCH_DURATION', 1);
const WARMUP = secondsFromEnv('BENCH_WARMUP', 0.5);
const CONNECTIONS = intFromEnv('BENCH_CONNECTIONS', 10);
const PIN = pinning();

/** The CPUs (taskset lists) of the load generator and of the applications; undefined: not pinned. */
function pinning(): { load: string; apps: string } | undefined {
  const cpus = os.availableParallelism();
  if (process.env.BENCH_PIN === '0' || process.platform !== 'linux' || cpus < 2) return undefined;
  const probe = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  if (probe.error !== undefined || probe.status !== 0) return undefined;
  return { load: '0', apps: cpus === 2 ? '1' : `1-${cpus - 1}` };
}
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'fastify,express').split(',');
const ALL_VARIANTS = [
  'bare',
  'context only',
  'headers only',
  'context and headers',
  'middleware, log: false',
  'middleware',
  "middleware, securityHeaders: 'helmet'",
] as const;
type Variant = (typeof ALL_VARIANTS)[number];
const DEFAULT_VARIANTS: readonly Variant[] = ALL_VARIANTS.slice(0, 6);
const VARIANTS: readonly Variant[] = variantsFromEnv();

function variantsFromEnv(): readonly Variant[] {
  const raw = process.env.BENCH_VARIANTS;
  if (raw === undefined || raw === '') return DEFAULT_VARIANTS;
  const names = raw.split('|');
  for (const name of names) {
    if (!(ALL_VARIANTS as readonly string[]).includes(name)) {
      throw new Error(
        `BENCH_VARIANTS: unknown variant ${JSON.stringify(name)}; known: ${ALL_VARIANTS.join(' | ')}`,
      );
    }
  }
  return ALL_VARIANTS.filter((variant) => variant === 'bare' || names.includes(variant));
}
/** Goal of issue 5 ("Speed"). */
const GOAL_RATIO = 0.9;

function secondsFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(
      `${name}=${JSON.stringify(raw)} is invalid: expected a positive number of seconds`,
    );
  }
  return value;
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name}=${JSON.stringify(raw)} is invalid: expected a positive whole number`);
  }
  return value;
}

// --- child: one application -------------------------------------------------------------------

async function serve(framework: string, variant: Variant): Promise<void> {
  const { createEnterprise } = await import('../src/enterprise.js');
  const { BASIC_SECURITY_HEADERS } = await import('../src/monitoring/security-headers.js');
  const instrumented = variant.startsWith('middleware');
  const enterprise = instrumented
    ? createEnterprise({ performance: { systemMetrics: false } })
    : undefined;
  const log = variant !== 'middleware, log: false';
  const securityHeaders = variant === "middleware, securityHeaders: 'helmet'" ? 'helmet' : 'basic';

  // The reference variants isolate two parts of the middleware's work: an AsyncLocalStorage
  // context around the chain (what any ALS-based request context costs), and the same response
  // headers (the middleware's default set and an id) set by a bare hook. `context and headers`
  // does both in one hook: the least any middleware with the issue's context and headers costs.
  const both = variant === 'context and headers';
  const storage = variant === 'context only' || both ? new AsyncLocalStorage<object>() : undefined;
  const headers = variant === 'headers only' || both ? BASIC_SECURITY_HEADERS : undefined;
  let requests = 0;
  let port: number;
  if (framework === 'fastify') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    if (enterprise !== undefined) {
      const { enterprisePlugin } = await import('../src/adapters/fastify.js');
      await app.register(enterprisePlugin, {
        enterprise,
        monitoring: false,
        instrument: { enterprise, log, securityHeaders },
      });
    }
    if (storage !== undefined || headers !== undefined) {
      app.addHook('onRequest', (_request, reply, done) => {
        const id = ++requests;
        if (headers !== undefined) {
          reply.headers(headers);
          reply.header('x-request-id', String(id));
        }
        if (storage !== undefined) storage.run({ id }, done);
        else done();
      });
    }
    app.get('/', async () => ({ hello: 'world' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  } else if (framework === 'express') {
    const { default: express } = await import('express');
    const app = express();
    if (enterprise !== undefined) {
      const { enterpriseMiddleware } = await import('../src/adapters/express.js');
      app.use(enterpriseMiddleware({ enterprise, log, securityHeaders }));
    }
    if (storage !== undefined || headers !== undefined) {
      app.use((_req, res, next) => {
        const id = ++requests;
        if (headers !== undefined) {
          for (const name in headers) res.setHeader(name, headers[name]!);
          res.setHeader('x-request-id', String(id));
          res.removeHeader('x-powered-by');
        }
        if (storage !== undefined) storage.run({ id }, next);
        else next();
      });
    }
    app.get('/', (_req, res) => {
      res.json({ hello: 'world' });
    });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  } else {
    throw new Error(`unknown framework ${framework}`);
  }
  process.on('message', (message: unknown) => {
    if (message === 'cpu') {
      const usage = process.cpuUsage();
      process.send?.({ cpu: usage.user + usage.system, user: usage.user });
    }
  });
  process.send?.({ port });
}

// --- child: the instrumentation alone, in process -------------------------------------------

/** Variants of the in-process measurement: what one request's begin + end costs. */
const LINE_VARIANTS = ['log: false', 'default logger', 'host logger: pino()'] as const;

/**
 * Calls `begin` + `end` of the request instrumentation in a loop, interleaved round by round, and
 * sends the median CPU time per request of each variant (µs) to the parent. Lines go to this
 * child's stdout, /dev/null. This isolates the middleware's own work from the HTTP stack's.
 */
async function instrumentationCost(): Promise<void> {
  const { createEnterprise } = await import('../src/enterprise.js');
  const { RequestInstrumentation } = await import('../src/monitoring/request-instrumentation.js');
  const { default: pino } = await import('pino');
  const performance = { systemMetrics: false };
  const own = createEnterprise({ env: {}, performance });
  // What a host passing its own pino gets: pino's default destination, one write per line.
  const host = createEnterprise({ env: {}, logger: pino({ messageKey: 'message' }), performance });
  const variants = {
    'log: false': new RequestInstrumentation({ enterprise: own, log: false }),
    'default logger': new RequestInstrumentation({ enterprise: own }),
    'host logger: pino()': new RequestInstrumentation({ enterprise: host }),
  } satisfies Record<(typeof LINE_VARIANTS)[number], unknown>;
  const perRequest: Record<string, number[]> = {};
  const requests = 50_000;
  for (let round = 0; round < 7; round++) {
    for (const [name, instrumentation] of Object.entries(variants)) {
      const before = process.cpuUsage();
      for (let i = 0; i < requests; i++) {
        instrumentation.end(instrumentation.begin('GET', undefined), '/users/:id', 200);
      }
      const used = process.cpuUsage(before);
      // The first round warms the code up; it is not counted.
      if (round > 0) (perRequest[name] ??= []).push((used.user + used.system) / requests);
    }
  }
  process.send?.(
    Object.fromEntries(Object.entries(perRequest).map(([name, values]) => [name, median(values)])),
  );
}

// --- parent: the load generator ---------------------------------------------------------------

interface App {
  framework: string;
  variant: Variant;
  child: ChildProcess;
  url: string;
}

/** Runs this script with `args` as an application process. */
function forkApplication(args: string[]): ChildProcess {
  return fork(fileURLToPath(import.meta.url), args, {
    // stdout to /dev/null: the middleware's log lines are written, nobody reads them.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    // Pinned: taskset runs node (which keeps the IPC channel) on the applications' CPUs.
    ...(PIN === undefined
      ? { execArgv: process.execArgv }
      : { execPath: 'taskset', execArgv: ['-c', PIN.apps, process.execPath, ...process.execArgv] }),
  });
}

function start(framework: string, variant: Variant): Promise<App> {
  const child = forkApplication(['--serve', framework, variant]);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${framework} ${variant} exited with ${code}`)));
    child.once('message', (message: { port: number }) => {
      resolve({ framework, variant, child, url: `http://127.0.0.1:${message.port}/` });
    });
  });
}

/** CPU time (user + system, and user alone, µs) the application's process has used so far. */
function cpuOf(app: App): Promise<{ cpu: number; user: number }> {
  return new Promise((resolve) => {
    const onMessage = (message: { cpu?: number; user?: number }) => {
      if (message.cpu === undefined || message.user === undefined) return;
      app.child.off('message', onMessage);
      resolve({ cpu: message.cpu, user: message.user });
    };
    app.child.on('message', onMessage);
    app.child.send('cpu');
  });
}

interface Measurement {
  /** Requests per second (autocannon's average over the run). */
  rps: number;
  /** CPU time the application's process spent per request, in µs. */
  cpuPerRequest: number;
  /** The part of it spent in user space (the rest is the kernel: mostly the socket writes). */
  userPerRequest: number;
}

async function load(app: App, seconds: number): Promise<Measurement> {
  const before = await cpuOf(app);
  autocannon ??= createRequire(import.meta.url)('autocannon') as Autocannon;
  const result = await autocannon({ url: app.url, connections: CONNECTIONS, duration: seconds });
  const after = await cpuOf(app);
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${app.url}: ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  const total = result.requests.total;
  return {
    rps: result.requests.average,
    cpuPerRequest: (after.cpu - before.cpu) / total,
    userPerRequest: (after.user - before.user) / total,
  };
}

/** The average of two measurements, field by field. */
function mean(a: Measurement, b: Measurement): Measurement {
  return {
    rps: (a.rps + b.rps) / 2,
    cpuPerRequest: (a.cpuPerRequest + b.cpuPerRequest) / 2,
    userPerRequest: (a.userPerRequest + b.userPerRequest) / 2,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Runs {@link instrumentationCost} in a child whose stdout is /dev/null. */
function measureInstrumentation(): Promise<Record<string, number>> {
  const child = fork(fileURLToPath(import.meta.url), ['--instrumentation'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: process.execArgv,
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (message: Record<string, number>) => {
      child.kill();
      resolve(message);
    });
  });
}

async function main(): Promise<void> {
  const inProcess = await measureInstrumentation();
  console.log(
    '# The middleware alone, in process (begin + end of one request, CPU µs, median of 6 rounds of 50,000)\n',
  );
  console.log('| variant | CPU µs per request |\n| --- | ---: |');
  for (const name of LINE_VARIANTS) console.log(`| ${name} | ${inProcess[name]!.toFixed(2)} |`);
  console.log('');
  if (PIN !== undefined) {
    // Every thread of this process (autocannon's sockets, libuv's pool) on the load generator's CPU.
    spawnSync('taskset', ['-a', '-p', '-c', PIN.load, String(process.pid)], { stdio: 'ignore' });
  }
  const apps: App[] = [];
  for (const framework of FRAMEWORKS) {
    for (const variant of VARIANTS) apps.push(await start(framework, variant));
  }
  /** Every measurement of each application (bare: all of its slices). */
  const results = new Map<App, Measurement[]>(apps.map((app) => [app, []]));
  /** Per variant and round, the bare application's measurements just before and just after it. */
  const bareAround = new Map<App, Measurement[]>(apps.map((app) => [app, []]));
  try {
    console.log(
      `# HTTP: ${FRAMEWORKS.join(', ')} hello world, bare vs enterprise middleware — ${ROUNDS} rounds, ` +
        `each variant measured for ${DURATION}s (after ${WARMUP}s of warm-up) between two measurements of bare, ` +
        `${CONNECTIONS} connections, Node ${process.version}, ` +
        `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ` +
        (PIN === undefined
          ? 'not pinned'
          : `load generator on CPU ${PIN.load}, applications on CPU ${PIN.apps}`),
    );
    const measure = async (app: App): Promise<Measurement> => {
      await load(app, WARMUP);
      const measured = await load(app, DURATION);
      results.get(app)!.push(measured);
      return measured;
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const framework of FRAMEWORKS) {
        const group = apps.filter((app) => app.framework === framework);
        const bare = group.find((app) => app.variant === 'bare')!;
        const others = group.filter((app) => app !== bare);
        // A different variant first each round, so none always runs on a cold or a warm machine;
        // bare runs before and after each, so each variant compares with the bare application
        // measured seconds apart, on the same machine state (which drifts within a minute here).
        const order = others.map((_, i) => others[(i + round) % others.length]!);
        let before = await measure(bare);
        const line = [`bare ${Math.round(before.rps)}`];
        for (const app of order) {
          const measured = await measure(app);
          const after = await measure(bare);
          bareAround.get(app)!.push(mean(before, after));
          line.push(`${app.variant} ${Math.round(measured.rps)}`, `bare ${Math.round(after.rps)}`);
          before = after;
        }
        console.error(`round ${round + 1} ${framework} (req/s): ${line.join(', ')}`);
      }
    }
  } finally {
    for (const app of apps) app.child.kill();
  }

  console.log(
    '\n| framework | variant | req/s (median) | req/s (min–max) | req/s ratio to bare (median; per round) | CPU µs/request (median) | of which user | bare / this, by CPU per request |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const verdicts: string[] = [];
  for (const framework of FRAMEWORKS) {
    for (const variant of VARIANTS) {
      const app = apps.find((a) => a.framework === framework && a.variant === variant)!;
      const runs = results.get(app)!;
      const around = bareAround.get(app)!;
      const rps = runs.map((run) => run.rps);
      const isBare = variant === 'bare';
      const ratios = isBare ? [] : runs.map((run, i) => run.rps / around[i]!.rps);
      const ratio = isBare ? 1 : median(ratios);
      const cpu = median(runs.map((run) => run.cpuPerRequest));
      const user = median(runs.map((run) => run.userPerRequest));
      const cpuRatio = isBare
        ? 1
        : median(runs.map((run, i) => around[i]!.cpuPerRequest / run.cpuPerRequest));
      console.log(
        `| ${framework} | ${variant} | ${Math.round(median(rps))} | ${Math.round(Math.min(...rps))}–${Math.round(Math.max(...rps))} | ${isBare ? '1.00' : `${ratio.toFixed(3)} (${ratios.map((r) => r.toFixed(2)).join(', ')})`} | ${cpu.toFixed(1)} | ${user.toFixed(1)} | ${isBare ? '1.00' : cpuRatio.toFixed(3)} |`,
      );
      if (variant.startsWith('middleware')) {
        verdicts.push(
          `${framework}, ${variant}: ${(ratio * 100).toFixed(1)}% of bare req/s, ${(cpuRatio * 100).toFixed(1)}% by CPU per request — goal ≥ ${GOAL_RATIO * 100}%: ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'}`,
        );
      }
    }
  }
  console.log(`\n${verdicts.join('\n')}`);
}

// --- one application, variants switched every few milliseconds: where the middleware's time goes

/** How long each variant of {@link partsApp} runs before the next takes over. */
const PARTS_SLICE_MS = 50;
const PARTS_VARIANTS = [
  'context only',
  'context and headers',
  'middleware, no metrics, log: false',
  'middleware, log: false',
  'middleware',
] as const;

/**
 * The application of `--parts`: one Fastify application whose `onRequest` hook switches, every
 * {@link PARTS_SLICE_MS} ms, between the plugin's own hook on instrumentation with some of its
 * work turned off, a bare request context, and that context with the middleware's headers, and
 * counts CPU time and requests per variant.
 * Switching within one process every few milliseconds gives every variant the same machine
 * state, which separate processes measured seconds apart do not have on this machine; the price
 * is that the request context is on for all of them (it is one store for the process), so this
 * measures the middleware's work beyond the context, not against a bare application.
 */
async function partsApp(): Promise<void> {
  const { createEnterprise } = await import('../src/enterprise.js');
  const { runInContext } = await import('../src/core/context.js');
  const { RequestInstrumentation } = await import('../src/monitoring/request-instrumentation.js');
  const { instrumentationHook } = await import('../src/adapters/fastify-hook.js');
  const { BASIC_SECURITY_HEADERS } = await import('../src/monitoring/security-headers.js');
  const { default: Fastify } = await import('fastify');
  const enterprise = createEnterprise({ performance: { systemMetrics: false } });
  type Hook = ReturnType<typeof instrumentationHook>;
  let requestIds = 0;
  const hook = (options: ConstructorParameters<typeof RequestInstrumentation>[0]): Hook =>
    instrumentationHook(new RequestInstrumentation({ enterprise, ...options }));
  const hooks: Record<(typeof PARTS_VARIANTS)[number], Hook> = {
    'context only': (_request, _reply, done) => {
      runInContext({ correlationId: undefined, span: undefined }, done);
    },
    // The reference of bench:http: the same headers and a counter for an id, no package code.
    'context and headers': (_request, reply, done) => {
      const id = String(++requestIds);
      reply.headers(BASIC_SECURITY_HEADERS);
      reply.header('x-request-id', id);
      runInContext({ correlationId: id, span: undefined }, done);
    },
    'middleware, no metrics, log: false': hook({ metrics: false, log: false }),
    'middleware, log: false': hook({ log: false }),
    middleware: hook({}),
  };
  const stats = PARTS_VARIANTS.map(() => ({ cpu: 0, requests: 0 }));
  let current = 0;
  let active = hooks[PARTS_VARIANTS[0]];
  const app = Fastify({ logger: false });
  app.addHook('onRequest', (request, reply, done) => {
    stats[current]!.requests++;
    active(request as never, reply as never, done);
  });
  app.get('/', async () => ({ hello: 'world' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  let timer: NodeJS.Timeout | undefined;
  let last = process.cpuUsage();
  process.on('message', (message: unknown) => {
    if (message === 'start') {
      for (const stat of stats) Object.assign(stat, { cpu: 0, requests: 0 });
      last = process.cpuUsage();
      timer = setInterval(() => {
        const now = process.cpuUsage();
        stats[current]!.cpu += now.user + now.system - last.user - last.system;
        last = now;
        current = (current + 1) % PARTS_VARIANTS.length;
        active = hooks[PARTS_VARIANTS[current]!];
      }, PARTS_SLICE_MS);
    } else if (message === 'cpu') {
      // What load() asks every application for.
      const usage = process.cpuUsage();
      process.send?.({ cpu: usage.user + usage.system, user: usage.user });
    } else if (message === 'stop') {
      clearInterval(timer);
      process.send?.({ stats: stats.map((stat) => stat.cpu / stat.requests) });
    }
  });
  process.send?.({ port: (app.server.address() as AddressInfo).port });
}

/** `--parts`: drives {@link partsApp} and prints CPU µs per request per variant. */
async function parts(): Promise<void> {
  const seconds = secondsFromEnv('BENCH_DURATION', 20);
  const rounds = intFromEnv('BENCH_ROUNDS', 5);
  if (PIN !== undefined) {
    spawnSync('taskset', ['-a', '-p', '-c', PIN.load, String(process.pid)], { stdio: 'ignore' });
  }
  const child = forkApplication(['--parts-app']);
  const port = await new Promise<number>((resolve) =>
    child.once('message', (message: { port: number }) => resolve(message.port)),
  );
  const app: App = {
    framework: 'fastify',
    variant: 'middleware',
    child,
    url: `http://127.0.0.1:${port}/`,
  };
  const runs: number[][] = [];
  try {
    console.log(
      `# Fastify, one application switching variants every ${PARTS_SLICE_MS} ms — ${rounds} runs of ${seconds}s, ` +
        `${CONNECTIONS} connections, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ` +
        (PIN === undefined
          ? 'not pinned'
          : `load generator on CPU ${PIN.load}, application on CPU ${PIN.apps}`),
    );
    await load(app, 2);
    for (let run = 0; run < rounds; run++) {
      child.send('start');
      await load(app, seconds);
      const result = await new Promise<number[]>((resolve) => {
        const onMessage = (message: { stats?: number[] }) => {
          if (message.stats === undefined) return;
          child.off('message', onMessage);
          resolve(message.stats);
        };
        child.on('message', onMessage);
        child.send('stop');
      });
      runs.push(result);
      console.error(
        `run ${run + 1}: ${PARTS_VARIANTS.map((name, i) => `${name} ${result[i]!.toFixed(2)}`).join(', ')} µs CPU/request`,
      );
    }
  } finally {
    child.kill();
  }
  console.log(
    '\n| variant | CPU µs per request (median) | beyond the context alone (median; per run) |',
  );
  console.log('| --- | ---: | ---: |');
  PARTS_VARIANTS.forEach((name, i) => {
    const extra = runs.map((run) => run[i]! - run[0]!);
    console.log(
      `| ${name} | ${median(runs.map((run) => run[i]!)).toFixed(2)} | ${i === 0 ? '-' : `${median(extra).toFixed(2)} (${extra.map((x) => x.toFixed(2)).join(', ')})`} |`,
    );
  });
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]!, process.argv[4] as Variant);
} else if (process.argv[2] === '--parts') {
  await parts();
} else if (process.argv[2] === '--parts-app') {
  await partsApp();
} else if (process.argv[2] === '--instrumentation') {
  await instrumentationCost();
} else {
  await main();
}
