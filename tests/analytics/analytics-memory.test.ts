// Bounded memory: tracking 1,000,000 events (200,000 users, then 1,000,000 distinct users) with a
// funnel and cohorts into the memory store grows the process by less than 100 MB. Measured in a
// child process of its own (bench/analytics-events-memory.ts), after a full GC.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('analytics memory', () => {
  it('grows by less than 100 MB over 1,000,000 tracked events', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/analytics-events-memory.ts', '--json'],
      { cwd: root, timeout: 280_000, maxBuffer: 1 << 20 },
    );
    const results = stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { name: string; heapMB: number; rssMB: number; written: number },
      );
    expect(results.map((r) => r.name)).toEqual(['200k users', '1M distinct users']);
    for (const result of results) {
      expect(result.written, result.name).toBe(1_000_000);
      expect(result.heapMB, result.name).toBeLessThan(100);
      expect(result.rssMB, result.name).toBeLessThan(100);
    }
  }, 300_000);
});
