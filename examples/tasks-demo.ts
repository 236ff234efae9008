/**
 * npm run demo:tasks
 *
 * Background tasks with the in-memory backend (set REDIS_URL to run them on Redis instead): a
 * decorated service method and a plain function as handlers, priorities, a flaky task retried with
 * backoff, a task that ends in the dead letter queue and is retried from it, dependencies, a
 * timeout, a periodic schedule, and the statistics at the end. Ends by itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { configure } from '../src/index.js';
import {
  BackgroundTask,
  backgroundTask,
  registerTaskHandlers,
  scheduler,
  submitTask,
  submitTasks,
  type TaskContext,
  TaskPriority,
  tasks,
} from '../src/tasks/index.js';

// In an application, typed payloads come from augmenting the registry (left out here because
// this repository type-checks every file together):
//   declare module '@revcopy/enterprise/tasks' {
//     interface TaskRegistry { process_analytics: { userId: number }; send_welcome_email: string }
//   }

const enterprise = configure({
  logLevel: 'error',
  // A demo wants short waits: 50 ms before the first retry, 1 s timeouts, a quick shutdown.
  tasks: {
    workerCount: 4,
    backoff: { delay: '50ms', jitter: 0 },
    shutdownTimeout: '1s',
    queueName: process.env.REDIS_URL ? `demo-${Date.now()}` : 'default',
  },
});

class AnalyticsService {
  readonly processed: number[] = [];

  @BackgroundTask('process_analytics', { priority: TaskPriority.HIGH })
  async processUserAnalytics(payload: { userId: number }, { attempt }: TaskContext) {
    await sleep(5);
    this.processed.push(payload.userId);
    return { userId: payload.userId, score: payload.userId * 7, attempt };
  }
}
const analytics = new AnalyticsService();
// Standard decorators bind the instance on `new`; this also covers experimentalDecorators builds.
registerTaskHandlers(analytics);

const order: string[] = [];
backgroundTask('send_welcome_email', async (email: string) => {
  order.push(email);
  return `sent to ${email}`;
});

backgroundTask(
  'flaky_import',
  async ({ file }: { file: string }, { attempt, progress }) => {
    progress({ file, attempt });
    if (attempt < 3) throw new Error(`connection reset while reading ${file}`);
    return { rows: 1_200 };
  },
  { maxRetries: 5 },
);

let cardServiceUp = false;
backgroundTask(
  'charge_card',
  async ({ cents }: { cents: number }) => {
    if (!cardServiceUp) throw new Error('card service unavailable');
    return { charged: cents };
  },
  { maxRetries: 1 },
);

const steps: string[] = [];
backgroundTask('aggregate', async ({ part }: { part: string }) => {
  await sleep(part === 'orders' ? 30 : 10);
  steps.push(part);
});
backgroundTask('monthly_report', async ({ month }: { month: string }) => {
  steps.push(`report ${month}`);
  return `report for ${month} after ${steps.length - 1} aggregations`;
});

backgroundTask(
  'slow_export',
  (_payload: undefined, { signal }) =>
    new Promise((resolve) => signal.addEventListener('abort', () => resolve('too late'))),
  { timeout: '200ms', maxRetries: 0 },
);

let heartbeats = 0;
backgroundTask('heartbeat', () => {
  heartbeats++;
});

tasks.on('retried', (e) =>
  console.log(`  retry: ${e.name} attempt ${e.attempt} failed, next in ${e.delayMs} ms`),
);
tasks.on('dead', (e) => console.log(`  dead: ${e.name} — ${e.error.name}: ${e.error.message}`));

await enterprise.start();

// 1. A decorated method and a plain function, with priorities: HIGH runs before NORMAL.
const emailIds = await submitTasks([
  { name: 'send_welcome_email', payload: 'ada@example.com' },
  { name: 'send_welcome_email', payload: 'grace@example.com' },
]);
const analyticsId = await submitTask('process_analytics', { userId: 123 });
const result = await tasks.waitFor(analyticsId, { timeout: '10s' });
console.log(`1. process_analytics -> ${JSON.stringify(result.result)}`);
await Promise.all(emailIds.map((id) => tasks.waitFor(id, { timeout: '10s' })));
console.log(`   welcome emails sent: ${order.join(', ')}`);

// 2. Retries with exponential backoff: fails twice, succeeds on the third attempt.
const importId = await submitTask('flaky_import', { file: 'users.csv' });
const imported = await tasks.waitFor(importId, { timeout: '10s' });
console.log(
  `2. flaky_import completed on attempt ${imported.attempts}: ${JSON.stringify(imported.result)}`,
);

// 3. Out of retries: the dead letter queue keeps the error; a retry from it succeeds.
const chargeId = await submitTask('charge_card', { cents: 4_200 });
await tasks.waitFor(chargeId, { timeout: '10s' }).catch(() => {});
const [deadTask] = await tasks.deadLetters.list();
console.log(
  `3. dead letter: ${deadTask?.name} after ${deadTask?.attempts} attempts (${deadTask?.error?.message})`,
);
cardServiceUp = true;
await tasks.deadLetters.retry(chargeId);
const charged = await tasks.waitFor(chargeId, { timeout: '10s' });
console.log(`   retried from the dead letter queue: ${JSON.stringify(charged.result)}`);

// 4. Dependencies: the report waits for both aggregations.
const [ordersId, refundsId] = await submitTasks([
  { name: 'aggregate', payload: { part: 'orders' }, options: { id: `orders-${Date.now()}` } },
  { name: 'aggregate', payload: { part: 'refunds' }, options: { id: `refunds-${Date.now()}` } },
]);
const reportId = await submitTask(
  'monthly_report',
  { month: '2024-05' },
  { dependsOn: [ordersId!, refundsId!], priority: TaskPriority.CRITICAL },
);
const report = await tasks.waitFor(reportId, { timeout: '10s' });
console.log(`4. ${report.result} (${steps.join(' -> ')})`);

// 5. A handler that never settles is timed out, and its worker slot freed.
const exportId = await submitTask('slow_export');
const timedOut = await tasks.waitFor(exportId, { timeout: '10s' }).catch((error) => error);
console.log(`5. slow_export: ${timedOut.message}`);

// 6. A periodic schedule: every 100 ms, each slot submitted exactly once.
scheduler.scheduleEvery('100ms', 'demo-heartbeat', 'heartbeat');
scheduler.schedulePeriodic('0 2 * * *', 'nightly', 'heartbeat', undefined, {
  timezone: 'Europe/Paris',
});
await sleep(450);
scheduler.unschedule('demo-heartbeat');
const nightly = scheduler.list().find((s) => s.name === 'nightly');
console.log(
  `6. heartbeat ran ${heartbeats >= 3 ? 'at least 3' : heartbeats} times; nightly next runs at ${nightly?.nextRunAt.toISOString()}`,
);

// 7. Statistics: queues, workers (all processes), throughput and failure analysis.
const stats = await tasks.stats();
const queue = stats.queues.find((q) => q.name === tasks.defaultQueue);
console.log(
  `7. ${stats.backend} backend — completed ${queue?.completed}, dead ${queue?.dead}, workers ${stats.workers.length} (${stats.workers.every((w) => w.healthy) ? 'healthy' : 'unhealthy'})`,
);
for (const group of stats.failures) {
  console.log(`   failures: ${group.count} × ${group.task} ${group.errorName}: ${group.message}`);
}

await enterprise.shutdown();
console.log('done');
