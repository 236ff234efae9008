import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run demo:performance', () => {
  it('runs the instrumented example service and prints its performance summary', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'examples/performance-demo.ts'],
      {
        env: { ...process.env, DEMO_DURATION_MS: '800', LOG_LEVEL: 'silent' },
        timeout: 30_000,
      },
    );
    expect(stdout).toMatch(/\d+ simulated requests/);
    for (const operation of [
      'user_authentication',
      'database_query',
      'UserService.profileScore',
      'UserService.register',
      'validation',
      'send_welcome_email',
    ]) {
      expect(stdout).toContain(operation);
    }
    expect(stdout).toContain('Bottlenecks by share of total time');
    expect(stdout).toMatch(/System: rss \d+ MiB/);
  });
});
