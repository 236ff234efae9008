import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise } from '../../../src/index.js';
import { fixture } from './suite.js';

/**
 * The point of a sandbox: a CPU-bound handler (about 200 ms of SHA-256 hashing per task) does not
 * block the main event loop, so the HTTP server of the same process keeps answering. The loop's
 * delay is sampled with perf_hooks while tasks run and an HTTP client keeps requesting, three
 * times: with no tasks (the machine's own noise), with the handler in the sandbox, and with the
 * same handler run in-process (the control, which shows the measurement can see a blocked loop).
 */

interface Phase {
  p99Ms: number;
  maxMs: number;
  served: number;
  /** Requests answered per second over the phase. */
  perSecond: number;
  slowestRequestMs: number;
}

let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

// The HTTP client runs in its own process, so the main process only serves (and its loop delay
// is not the client's own work); it requests in a loop until its stdin closes, then prints its
// count and slowest request.
const CLIENT = `
  let stop = false;
  let served = 0;
  let slowest = 0;
  // A line on stdin starts the count (the requests before it only warm up); its end stops.
  process.stdin.on('data', () => { served = 0; slowest = 0; }).on('end', () => { stop = true; });
  (async () => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const response = await fetch(process.argv[1]);
        await response.text();
        if (response.status === 200) served += 1;
      } catch {}
      slowest = Math.max(slowest, performance.now() - t0);
    }
    process.stdout.write(JSON.stringify({ served, slowest }));
  })();
`;

/** Samples the loop delay while an HTTP client requests, until `work` resolves (at least `minMs`). */
async function measure(work: () => Promise<unknown>, minMs: number): Promise<Phase> {
  const client = spawn(process.execPath, ['-e', CLIENT, url], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  client.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise((resolve) => client.once('exit', resolve));
  // Lets the client start before the phase begins.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  client.stdin.write('go\n');
  histogram.enable();
  const t0 = performance.now();
  await Promise.all([work(), new Promise((resolve) => setTimeout(resolve, minMs))]);
  const elapsedMs = performance.now() - t0;
  histogram.disable();
  client.stdin.end();
  await exited;
  const { served, slowest } = JSON.parse(output) as { served: number; slowest: number };
  return {
    p99Ms: histogram.percentile(99) / 1e6,
    maxMs: histogram.max / 1e6,
    served,
    perSecond: (served * 1_000) / elapsedMs,
    slowestRequestMs: slowest,
  };
}

async function runTasks(e: Enterprise, name: string, count: number): Promise<void> {
  const ids = await e.tasks.submitMany(
    Array.from({ length: count }, () => ({ name, payload: { ms: 200 } })),
  );
  for (const id of ids) await e.tasks.waitFor(id, { timeout: 60 });
}

describe('a CPU-bound sandboxed handler and the main event loop', () => {
  it('keeps the loop delay p99 under 20 ms (plus the machine noise) while HTTP is served', async () => {
    const e = createEnterprise({
      logLevel: 'silent',
      env: {},
      performance: { systemMetrics: false },
      tasks: { workerCount: 2 },
    });
    e.tasks.register('sbx_hash', { sandbox: { file: fixture('hash.mjs') } });
    const { default: hash } = (await import(fixture('hash.mjs').href)) as {
      default: (payload: { ms: number }) => unknown;
    };
    e.tasks.register('inline_hash', hash);
    await e.start();
    try {
      // Starts the sandbox's thread(s) before measuring: a thread's start is not the steady state.
      await runTasks(e, 'sbx_hash', 2);
      const baseline = await measure(async () => {}, 2_000);
      const sandboxed = await measure(() => runTasks(e, 'sbx_hash', 15), 2_000);
      const inline = await measure(() => runTasks(e, 'inline_hash', 6), 0);
      console.log(JSON.stringify({ baseline, sandboxed, inline }));

      // The control: the same work on the main thread blocks the loop for 200 ms and more at a
      // time (two tasks back to back with two worker slots): a request waits that long, and the
      // server answers next to nothing meanwhile. (The histogram itself may hold no sample then.)
      expect(inline.slowestRequestMs).toBeGreaterThan(190);
      expect(inline.perSecond).toBeLessThan(baseline.perSecond / 4);
      // In the sandbox the loop stays responsive: under 20 ms at the 99th percentile. On a loaded
      // machine (two cores shared by many processes) the main thread is also descheduled for tens
      // of milliseconds with no work at all, which the idle baseline (same process, just before)
      // measures; the sandbox's thread then competes with it for a core, so twice that noise is
      // allowed, still far below the 200 ms a task blocks for when run in-process.
      expect(sandboxed.p99Ms).toBeLessThan(Math.max(20, baseline.p99Ms * 2 + 20));
      // ...and the HTTP server kept answering all along: the sandbox's thread takes one of the
      // machine's cores from the server and its client, so not quite at its idle pace, but far
      // above the in-process control.
      expect(sandboxed.perSecond).toBeGreaterThan(baseline.perSecond / 4);
      expect(sandboxed.perSecond).toBeGreaterThan(inline.perSecond * 2);
    } finally {
      await e.shutdown();
    }
  }, 120_000);
});
