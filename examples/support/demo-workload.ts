/**
 * The traffic of `npm run demo`: shoppers with Zipf-like product popularity, searches, price
 * updates, orders (one in eight with a declined card), logins, and a little hostile traffic; and the
 * `--smoke` check that every view of the dashboard has data.
 */
import { DECLINED_CARD, PRODUCTS } from './demo-shop.js';

/** Product ids by popularity rank: rank r is drawn with probability ~ 1/r (Zipf, s = 1). */
function zipfId(): string {
  const harmonic = Math.log(PRODUCTS) + 0.5772;
  let u = Math.random() * harmonic;
  for (let rank = 1; rank <= PRODUCTS; rank++) {
    u -= 1 / rank;
    if (u <= 0) return String(rank);
  }
  return String(PRODUCTS);
}

const HOSTILE: [string, RequestInit][] = [
  ["/search?q=' OR 1=1--", {}],
  ['/search?q=<script>alert(1)</script>', {}],
  ['/wp-admin/setup-config.php', {}],
  ['/.env', {}],
  ['/products/1', { headers: { 'user-agent': 'sqlmap/1.7.2#stable (https://sqlmap.org)' } }],
];

const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** One request of the mix, as a path and its init. */
function nextRequest(): [string, RequestInit] {
  const user = `user-${1 + Math.floor(Math.random() * 200)}`;
  const roll = Math.random();
  if (roll < 0.7) return [`/products/${zipfId()}?user=${user}`, {}];
  if (roll < 0.78)
    return [`/search?q=Product%20${Math.floor(Math.random() * 50)}&user=${user}`, {}];
  if (roll < 0.83)
    return [`/products/${zipfId()}/price`, json('PUT', { price: 10 + Math.random() * 30 })];
  if (roll < 0.93) {
    const card = Math.random() < 0.125 ? DECLINED_CARD : '4242-4242-4242-4242';
    return ['/orders', json('POST', { user, card })];
  }
  if (roll < 0.97) return ['/login', json('POST', { user, password: 'hunter2' })];
  if (roll < 0.98) return ['/login', json('POST', { user, password: 'correct horse' })];
  return HOSTILE[Math.floor(Math.random() * HOSTILE.length)]!;
}

/**
 * Sends `rate` requests a second to `base` (each on its own, not waiting for the previous), for
 * `seconds` or until the returned function is called. Failed requests are counted, not thrown.
 */
export function drive(base: string, options: { rate: number; seconds?: number }): () => void {
  const started = Date.now();
  const every = Math.max(1, Math.round(1000 / Math.max(1, options.rate)));
  // The first second starts with a burst of orders and of hostile requests, so tasks, dead
  // letters and threats show at once.
  for (let i = 0; i < 8; i++) {
    void fetch(
      `${base}/orders`,
      json('POST', { user: `user-${i}`, card: i % 4 === 0 ? DECLINED_CARD : '4242' }),
    )
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
  }
  for (const [path, init] of HOSTILE) {
    void fetch(base + path, init)
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
  }
  const timer = setInterval(() => {
    if (options.seconds !== undefined && Date.now() - started > options.seconds * 1000) {
      clearInterval(timer);
      return;
    }
    const [path, init] = nextRequest();
    fetch(base + path, init)
      .then((response) => response.arrayBuffer())
      .catch(() => undefined);
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}

/** `--smoke`: every view of the dashboard answers with data from the workload. */
export async function verifyViews(base: string, prefix: string, token: string): Promise<void> {
  const read = async (path: string) => {
    const response = await fetch(`${base}${prefix}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
    return (await response.json()) as any;
  };
  const check = (view: string, ok: boolean, detail: string) => {
    if (!ok) throw new Error(`demo: the ${view} view has no data (${detail})`);
    console.log(`demo: ${view} ok (${detail})`);
  };
  const summary = await read('/performance/summary');
  const operations = JSON.stringify(summary);
  check('performance', operations.includes('ProductRepository.find'), 'repository timed');
  const cache = await read('/cache/analytics');
  const hits = Number(cache.overall?.hits ?? cache.hits ?? 0);
  const misses = Number(cache.overall?.misses ?? cache.misses ?? 0);
  check('cache', hits > 0 && misses > 0, `${hits} hits, ${misses} misses`);
  const tasks = await read('/tasks/monitoring');
  const queues = tasks.queues as { completed: number; dead: number }[];
  const completed = queues.reduce((n, q) => n + (q.completed ?? 0), 0);
  const dead = queues.reduce((n, q) => n + (q.dead ?? 0), 0);
  check('tasks', completed > 0 && dead > 0, `${completed} completed, ${dead} dead`);
  const schedules = await read('/schedules');
  check(
    'schedules',
    schedules.schedules.some((s: { name: string }) => s.name === 'refresh_stats'),
    'refresh_stats every 10 s',
  );
  const security = await read('/security/monitoring');
  const byCategory = (security.threats?.byCategory ?? {}) as Record<string, number>;
  const threats = Object.values(byCategory).reduce((n, count) => n + count, 0);
  check('security', threats > 0, `${threats} threats, score ${security.score?.score}`);
  const analytics = await read('/analytics/overview');
  check('analytics', JSON.stringify(analytics).includes('view_product'), 'events tracked');
  const alerts = await read('/alerts');
  check('alerts', alerts !== null, 'rules evaluated');
}
