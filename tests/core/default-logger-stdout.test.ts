import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const FIXTURE = 'tests/fixtures/request-log.ts';

async function linesOf(mode: string): Promise<Record<string, unknown>[]> {
  const result = await run(process.execPath, ['--import', 'tsx', FIXTURE, mode], {
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the default logger on the process stdout', () => {
  it('writes each request line as valid JSON with its fields, warn for failures and aborts, no successful probe', async () => {
    const lines = await linesOf('exit');
    expect(lines.map((line) => [line.level, line.route, line.status, line.aborted])).toEqual([
      ['info', '/users/:id', 200, false],
      ['info', '/a"b\\c/é', 404, false],
      ['warn', '/orders', 503, false],
      ['warn', '/upload', 200, true],
      ['warn', '/api/v1/monitoring/health/ready', 503, false],
    ]);
    for (const line of lines) {
      expect(Object.keys(line)).toEqual([
        'level',
        'time',
        'pid',
        'hostname',
        'module',
        'method',
        'route',
        'status',
        'durationMs',
        'correlationId',
        'aborted',
        'message',
      ]);
      expect(line).toMatchObject({ module: 'http', method: 'GET', message: 'request completed' });
    }
  });

  it('writes the pending lines when the process dies of an uncaught exception', async () => {
    expect(await linesOf('throw')).toHaveLength(5);
  });

  it('loses no line and splits none when more lines are written than a batch holds', async () => {
    const lines = await linesOf('many');
    expect(lines).toHaveLength(20_000);
    expect(new Set(lines.map((line) => line.route)).size).toBe(10);
  });

  it('writes a batch within about 100 ms, while the process keeps running', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, 'stay'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const firstOutput = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.stdout.once('data', () => resolve(Date.now()));
    });
    const exited = await new Promise<number>((resolve) =>
      child.once('exit', () => resolve(Date.now())),
    );
    // The child exits 400 ms after its lines; they arrived well before that.
    expect(exited - firstOutput).toBeGreaterThan(200);
  });
});
