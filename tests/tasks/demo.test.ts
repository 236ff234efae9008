import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run demo:tasks', () => {
  it('runs handlers, retries, the dead letter queue, dependencies, a timeout and a schedule, then ends', async () => {
    const env = { ...process.env };
    delete env.REDIS_URL;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/tasks-demo.ts'], {
      env,
      timeout: 30_000,
    });
    expect(stdout).toContain('1. process_analytics -> {"userId":123,"score":861,"attempt":1}');
    expect(stdout).toContain('welcome emails sent: ada@example.com, grace@example.com');
    expect(stdout).toContain('2. flaky_import completed on attempt 3');
    expect(stdout).toContain('retried from the dead letter queue: {"charged":4200}');
    expect(stdout).toMatch(
      /4\. report for 2024-05 after 2 aggregations \((orders|refunds) -> (orders|refunds) -> report 2024-05\)/,
    );
    expect(stdout).toMatch(/5\. slow_export: .*TaskTimeoutError/);
    expect(stdout).toContain('6. heartbeat ran at least 3 times');
    // Nine tasks of steps 1-5 and the heartbeats of step 6 (how many of those ran in 450 ms depends
    // on the machine's load).
    const completed = /7\. memory backend — completed (\d+), dead 1, workers 1 \(healthy\)/.exec(
      stdout,
    );
    expect(completed).not.toBeNull();
    expect(Number(completed![1])).toBeGreaterThanOrEqual(12);
    expect(stdout.trim().endsWith('done')).toBe(true);
  });
});
