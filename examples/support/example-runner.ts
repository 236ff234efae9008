/**
 * What every framework example shares: its settings, a monitored and cached lookup for its one
 * route, the URLs it prints and its `--smoke` self-test. Each example file holds only what is
 * specific to its framework.
 */
import { configure, getCorrelationId, monitorPerformance } from '../../src/index.js';

/** `--smoke` (or SMOKE=1): start, request the app's own endpoints once, and exit. */
export const SMOKE = process.argv.includes('--smoke') || process.env.SMOKE === '1';
export const PORT = Number(process.env.PORT ?? (SMOKE ? 0 : 3000));
export const HOST = process.env.HOST ?? '127.0.0.1';
export const PREFIX = '/api/v1/monitoring';
/** The dashboard asks for this token (Authorization: Bearer) on its first data call. */
export const TOKEN = process.env.MONITORING_TOKEN ?? 'demo-token';

/**
 * Configures the default instance with in-memory defaults (no Redis or database needed; set
 * REDIS_URL to add the Redis tiers) and returns a monitored, cached lookup, which shows up in the
 * dashboard's operations and cache views.
 */
export function demoService() {
  const enterprise = configure({ logLevel: SMOKE ? 'warn' : 'info' });
  const findUser = monitorPerformance('UserService.find', async (id: string) =>
    enterprise.cache.getOrSet(
      `user:${id}`,
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { id, name: `User ${id}`, correlationId: getCorrelationId() };
      },
      { ttl: 30 },
    ),
  );
  return { enterprise, findUser };
}

/** Prints where the example's app and its monitoring endpoints answer. */
export function printUrls(framework: string, base: string, prefix: string, token: string): void {
  console.log(`${framework} example listening on ${base}`);
  console.log(`  app:        ${base}/users/42`);
  console.log(`  dashboard:  ${base}${prefix}/dashboard   (token: ${token})`);
  console.log(`  summary:    ${base}${prefix}/performance/summary`);
  console.log(`  metrics:    ${base}${prefix}/metrics`);
}

/**
 * `--smoke` (or SMOKE=1): requests the app's own endpoints once and resolves, or rejects on the
 * first unexpected answer. tests/adapters/examples.test.ts runs every example this way.
 */
export async function smokeTest(base: string, prefix: string, token: string): Promise<void> {
  const auth = { authorization: `Bearer ${token}` };
  const checks: [string, RequestInit, number[]][] = [
    ['/users/42', {}, [200]],
    [`${prefix}/health`, { headers: auth }, [200, 503]],
    [`${prefix}/performance/summary`, { headers: auth }, [200]],
    [`${prefix}/metrics`, { headers: auth }, [200]],
    [`${prefix}/performance/summary`, {}, [401]],
    [`${prefix}/dashboard`, {}, [200]],
  ];
  for (const [path, init, expected] of checks) {
    const response = await fetch(base + path, init);
    await response.arrayBuffer();
    if (!expected.includes(response.status) || !response.headers.get('x-request-id')) {
      throw new Error(`GET ${path}: status ${response.status}, expected ${expected.join(' or ')}`);
    }
    console.log(`smoke: GET ${path} -> ${response.status}`);
  }
}
