/**
 * npx tsx bench/analytics-events-memory.ts [--json]
 *
 * How much one process grows while `Analytics` tracks 1,000,000 events into its memory store,
 * with a three-step funnel and 12-week cohorts, flushed every 10,000 events as the timer would:
 *
 * 1. 200,000 users over 30 days (five events each on average);
 * 2. 1,000,000 distinct users over 30 days (one event each: the most users the store can hold
 *    for that many events).
 *
 * Heap and array buffers after a full GC, and RSS, over the same process before the instance was
 * built. The process first allocates and drops about 300 MB of short-lived objects, as a service
 * that has been running does: V8's young generation has grown to its working size before the
 * baseline, so the figures are what analytics add, not the heap of a cold start. With `--json`,
 * one line of JSON per scenario (tests/analytics/analytics-memory.test.ts reads it).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Analytics } from '../src/analytics/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MB = 1024 * 1024;
const EVENTS = ['view', 'cart', 'pay', 'search', 'share'];
const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function usage() {
  gc();
  gc();
  const { heapUsed, arrayBuffers, rss } = process.memoryUsage();
  return { heap: heapUsed + arrayBuffers, rss };
}

async function scenario(name: string, users: number, events = 1_000_000) {
  const before = usage();
  const analytics = new Analytics({
    hashKey: 'bench-hash-key-0123456789abcdef',
    logger: silent,
    flushInterval: '1h',
    funnels: { checkout: { steps: ['view', 'cart', 'pay'], within: '1h' } },
    cohorts: { weeks: 12 },
    maxBuffered: 20_000,
  });
  const now = Date.now();
  const span = 30 * 86_400_000;
  const started = performance.now();
  for (let i = 0; i < events; i++) {
    // Users and times spread by multiplicative hashing: deterministic, no Math.random().
    const user = (i * 2_654_435_761) % users;
    const at = now - span + Math.floor((i / events) * span);
    analytics.track(EVENTS[i % EVENTS.length]!, { userId: `user-${user}`, at });
    if (i % 10_000 === 9_999) await analytics.flush();
  }
  await analytics.flush();
  const seconds = (performance.now() - started) / 1_000;
  const after = usage();
  const result = {
    name,
    events,
    users,
    heapMB: Number(((after.heap - before.heap) / MB).toFixed(1)),
    rssMB: Number(((after.rss - before.rss) / MB).toFixed(1)),
    seconds: Number(seconds.toFixed(2)),
    written: analytics.stats().written,
  };
  await analytics.close();
  return result;
}

/** Short-lived garbage, as request handling makes: grows the young generation to its working size. */
function warmUp(): void {
  let keep = 0;
  for (let i = 0; i < 3_000_000; i++) {
    const garbage = { id: `request-${i}`, at: i, tags: [i, i + 1] };
    keep += garbage.id.length;
  }
  if (keep < 0) console.log(keep);
}

const json = process.argv.includes('--json');
warmUp();
for (const [name, users] of [
  ['200k users', 200_000],
  ['1M distinct users', 1_000_000],
] as const) {
  const result = await scenario(name, users);
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(
      `${result.name.padEnd(18)} ${result.events.toLocaleString('en')} events: heap + buffers +${result.heapMB} MB, RSS +${result.rssMB} MB, ${result.seconds} s (${Math.round(result.events / result.seconds).toLocaleString('en')} events/s tracked and folded)`,
    );
  }
}
