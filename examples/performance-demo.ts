/**
 * npm run demo
 *
 * A small service instrumented with @revcopy/enterprise using in-memory defaults only: decorated
 * methods, a plain function twin and nested performance contexts. It runs a short simulated
 * workload, then prints the performance summary. With `--serve` it keeps running and serves the
 * summary and Prometheus metrics over HTTP.
 *
 *   npm run demo                 # run the workload, print the summary, exit
 *   npm run demo -- --serve      # ...then serve http://127.0.0.1:3000/performance/summary and /metrics
 */
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  configure,
  getCorrelationId,
  MonitorPerformance,
  monitorPerformance,
  performanceContext,
  performanceMonitor,
  withContext,
} from '../src/index.js';

const durationMs = Number(process.env.DEMO_DURATION_MS ?? 3_000);
const serve = process.argv.includes('--serve');
const port = Number(process.env.PORT ?? 3000);

// In-memory defaults; the slow-call threshold is lowered so the demo shows a few slow calls.
const enterprise = configure({ performance: { alertThresholdMs: 40 }, logLevel: 'warn' });

class UserService {
  @MonitorPerformance('user_authentication')
  async authenticate(user: string): Promise<boolean> {
    // The seed's `async with performance_context("database_query", {"table": "users"})`.
    const row = await performanceContext('database_query', { table: 'users' }, async () => {
      await sleep(2 + Math.random() * 8);
      return { user, active: true };
    });
    return row.active;
  }

  @MonitorPerformance({ thresholdMs: 5 })
  profileScore(user: string): number {
    let score = 0;
    for (let i = 0; i < 20_000 + user.length * 1_000; i++) score = (score + i * 31) % 1_000_003;
    return score;
  }

  @MonitorPerformance()
  async register(user: string): Promise<void> {
    await performanceContext('validation', () => sleep(1));
    if (Math.random() < 0.1) throw new Error(`user ${user} already exists`);
    await sleep(Math.random() < 0.05 ? 60 : 5);
  }
}

const sendWelcomeEmail = monitorPerformance('send_welcome_email', async (to: string) => {
  await sleep(3 + Math.random() * 4);
  return `sent to ${to} (request ${getCorrelationId()})`;
});

performanceMonitor.on('slow', (event) => {
  console.log(
    `slow: ${event.name} took ${event.durationMs.toFixed(1)} ms (threshold ${event.thresholdMs} ms)` +
      (event.parent ? ` inside ${event.parent}` : ''),
  );
});

async function workload(): Promise<number> {
  const users = new UserService();
  const deadline = Date.now() + durationMs;
  let requests = 0;
  while (Date.now() < deadline) {
    const user = `user${requests % 50}`;
    await withContext(async () => {
      await users.authenticate(user);
      users.profileScore(user);
      try {
        await users.register(user);
        await sendWelcomeEmail(`${user}@example.com`);
      } catch {
        // Registration failures are part of the simulated traffic; they are counted as errors.
      }
    });
    requests++;
  }
  return requests;
}

await enterprise.start();
const requests = await workload();
const summary = performanceMonitor.summary();

console.log(`\n${requests} simulated requests in ${(durationMs / 1000).toFixed(1)} s\n`);
console.table(
  Object.fromEntries(
    summary.operations.map((op) => {
      const w = op.windows['1m'];
      const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
      return [
        op.name,
        {
          calls: w.count,
          errors: w.errors,
          'p50 ms': round(w.p50),
          'p95 ms': round(w.p95),
          'p99 ms': round(w.p99),
          'max ms': round(w.max),
          'calls/s': Math.round(w.throughput),
        },
      ];
    }),
  ),
);
console.log('Bottlenecks by share of total time:');
for (const b of summary.bottlenecks.byTotalTime.slice(0, 3)) {
  console.log(`  ${b.name}: ${(b.share * 100).toFixed(1)}% of time, p95 ${b.p95?.toFixed(2)} ms`);
}
const system = performanceMonitor.system();
if (system) {
  console.log(
    `System: rss ${(system.memory.rss / 2 ** 20).toFixed(0)} MiB, event-loop p99 delay ${system.eventLoop.delayP99Ms.toFixed(2)} ms, ELU ${(system.eventLoop.utilization * 100).toFixed(0)}%`,
  );
}

if (serve) {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(performanceMonitor.toPrometheus());
    } else if (req.url === '/performance/summary') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(performanceMonitor.summary(), null, 2));
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(port, '127.0.0.1', () => {
    console.log(
      `\nServing http://127.0.0.1:${port}/performance/summary and /metrics (Ctrl+C to stop)`,
    );
  });
  process.once('SIGINT', () => {
    server.close();
    void enterprise.shutdown();
  });
} else {
  await enterprise.shutdown();
}
