import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run demo:cache', () => {
  it('shows a cached method, a stampede run once, grace and tag invalidation', async () => {
    const env = { ...process.env };
    delete env.REDIS_URL;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/cache-demo.ts'], {
      env,
      timeout: 30_000,
    });
    expect(stdout).toContain('cached method: 2 calls, 1 database query');
    expect(stdout).toContain('stampede: 1000 callers, 1 database query');
    expect(stdout).toContain('served the last known rate 1.08');
    expect(stdout).toContain('queried the database 1 time');
    expect(stdout).toMatch(/default: .*999 deduplicated/);
  });
});
