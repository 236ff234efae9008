/**
 * What every framework example shares: the URLs it prints and its `--smoke` self-test. Each example
 * file holds only what is specific to its framework.
 */

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
