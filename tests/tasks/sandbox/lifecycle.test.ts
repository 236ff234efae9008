import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('sandbox threads and processes and the life of the process', () => {
  it('idle sandbox threads and processes keep nothing alive: the process exits on its own', async () => {
    const script = fileURLToPath(new URL('../../fixtures/sandbox/idle-exit.ts', import.meta.url));
    const t0 = Date.now();
    // Rejects (and fails the test) if the process is still running after the timeout.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], {
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    const results = JSON.parse(stdout.trim()) as {
      doubled: number;
      threadId: number;
      pid: number;
    }[];
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ doubled: 2 });
    expect(results[0]!.threadId).toBeGreaterThan(0);
    expect(results[1]).toMatchObject({ doubled: 2 });
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 40_000);
});
