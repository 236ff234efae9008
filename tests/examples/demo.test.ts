import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import { adminClient, deleteKeys } from '../tasks/redis/helpers.js';

const run = promisify(execFile);

/** `npm run demo -- --smoke`: the shop, its workload, and a check that every view has data. */
async function smoke(env: Record<string, string | undefined>) {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'examples/demo.ts', '--smoke'],
    {
      env: { ...process.env, PORT: '0', ...env },
      timeout: 60_000,
    },
  );
  for (const view of [
    'performance',
    'cache',
    'tasks',
    'schedules',
    'security',
    'analytics',
    'alerts',
  ]) {
    expect(stdout).toMatch(new RegExp(`demo: ${view} ok`));
  }
  return stdout;
}

describe('npm run demo', () => {
  it('drives every module from the first seconds, in memory', async () => {
    const stdout = await smoke({ REDIS_URL: undefined });
    expect(stdout).toMatch(/demo: tasks ok \(\d+ completed, [1-9]\d* dead\)/);
  });

  it.runIf(requires(redis))('runs two instances on Redis', async () => {
    const prefix = `test:demo:${randomUUID().slice(0, 8)}`;
    try {
      const stdout = await smoke({ REDIS_URL, DEMO_PREFIX: prefix });
      expect(stdout).toContain('a second instance runs on the next port');
    } finally {
      const client = adminClient();
      await deleteKeys(client, prefix);
      await client.quit();
    }
  });
});
