import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
        'traceId',
        'spanId',
        'aborted',
        'message',
      ]);
      expect(line).toMatchObject({ module: 'http', method: 'GET', message: 'request completed' });
      expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(line.spanId).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('keeps each request line in order with the other lines, with the time its request ended', async () => {
    const lines = await linesOf('order');
    expect(lines.map((line) => line.route ?? line.message)).toEqual([
      '/first',
      'between',
      '/second',
    ]);
    expect(lines.map((line) => line.level)).toEqual(['info', 'info', 'warn']);
    // Each line's time is its own, not that of the batch's write (which came last, at exit).
    const times = lines.map((line) => Date.parse(line.time as string));
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(25);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(25);
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

/**
 * Runs the fixture in `mode` with its stdout piped to a shell reader that takes nothing for
 * `readAfterMs`, then everything (`| (sleep; cat)`): the pipe fills, as behind a stuck log
 * shipper. (A reader in this process would not do: Node.js keeps reading a paused stream into
 * memory.)
 */
async function slowReader(mode: string, readAfterMs: number) {
  // The reader's delay counts from the moment the child starts writing (it creates `ready`), not
  // from its start: a loaded machine can take more than a second to start it.
  const ready = join(mkdtempSync(join(tmpdir(), 'slow-reader-')), 'ready');
  // Bounded: a child that never gets to write leaves the reader after 30 s, not never.
  const wait = `n=0; while [ ! -e "${ready}" ] && [ $n -lt 1500 ]; do sleep 0.02; n=$((n+1)); done; sleep ${readAfterMs / 1000}`;
  const command = `"${process.execPath}" --import tsx ${FIXTURE} ${mode} | (${wait}; cat)`;
  const child = spawn('sh', ['-c', command], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, READY_FILE: ready },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  rmSync(dirname(ready), { recursive: true, force: true });
  const text = Buffer.concat(chunks).toString('utf8');
  const lines = text.split('\n').filter((line) => line !== '');
  const wroteMs = Number(/wrote in (\d+)/.exec(stderr)?.[1] ?? Number.NaN);
  return { code, lines, text, wroteMs, stderr };
}

describe('the default logger on a non-blocking stdout pipe', () => {
  it('waits for a slow reader and loses no line, multi-byte characters included', async () => {
    const { code, lines, stderr } = await slowReader('many-nonblocking', 400);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^wrote in \d+\n$/);
    expect(lines).toHaveLength(20_000);
    const routes = new Set(lines.map((line) => (JSON.parse(line) as { route: string }).route));
    expect(routes).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `/café/€${i}`)));
  }, 30_000);

  it('drops whole lines, not the process, when the reader takes nothing for seconds', async () => {
    // The reader starts at 2.5 s; the child's last line comes at 3 s.
    const { code, lines, text, wroteMs, stderr } = await slowReader('stall', 2_500);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^wrote in \d+\n$/);
    // One batch waits a second for the pipe; the ones after it find it still full and are dropped.
    expect(wroteMs).toBeLessThan(2_500);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(20_000);
    // Every line that arrived is whole, the one the stall cut included (its end went first once
    // the pipe took data again): one JSON object each, none cut, none run together.
    expect(text.endsWith('\n')).toBe(true);
    const routes = lines.map((line) => (JSON.parse(line) as { route: string }).route);
    expect(routes.at(-1)).toBe('/last');
  }, 30_000);

  it('stops writing, without an error, when the reader has closed the pipe', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, 'many-nonblocking'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(stderr).toMatch(/wrote in \d+/);
    expect(stderr).not.toMatch(/EPIPE|Error/);
  }, 30_000);
});
