/**
 * An open-loop load generator: it sends requests at fixed, scheduled times whatever the server's
 * answers, and measures each request's latency from the time it was scheduled, not from when it
 * was sent, so a server that stalls is charged for the requests that waited behind the stall (no
 * coordinated omission, as in wrk2). Requests due at the same timer tick go out together; the
 * timer ticks about every millisecond, which adds at most that much to every variant alike.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ServiceRequest } from './workload.js';

export interface OpenLoopResult {
  /** Latencies of the completed requests, from their scheduled time, in ms. */
  latencies: Float64Array;
  /** The same by route (workload.ts's `route`). */
  byRoute: Record<string, number[]>;
  sent: number;
  completed: number;
  /** Answers outside 2xx, and requests that failed or were still open at the end. */
  failed: number;
  /** The failures by kind: `status 500`, an error code (`ECONNRESET`), `unanswered`. */
  failures: Record<string, number>;
  /** The rate actually scheduled (requests per second). */
  rate: number;
}

/**
 * Sends `rate` requests a second for `seconds` to `port` on 127.0.0.1, each from `next()`, and
 * waits up to `drainMs` for the last answers.
 */
export async function openLoop(options: {
  port: number;
  rate: number;
  seconds: number;
  next: () => ServiceRequest;
  drainMs?: number;
}): Promise<OpenLoopResult> {
  const { port, rate, seconds, next } = options;
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const latencies = new Float64Array(total);
  const byRoute: Record<string, number[]> = {};
  const failures: Record<string, number> = {};
  const fail = (kind: string) => {
    failed++;
    failures[kind] = (failures[kind] ?? 0) + 1;
  };
  let completed = 0;
  let failed = 0;
  let sent = 0;
  let settled = 0;
  let onAllSettled: (() => void) | undefined;
  const settle = () => {
    settled++;
    if (settled === total) onAllSettled?.();
  };

  const send = (scheduled: number) => {
    const spec = next();
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method: spec.method,
        path: spec.path,
        agent,
        headers:
          spec.body === undefined
            ? undefined
            : {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(spec.body),
              },
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          const ok = response.statusCode !== undefined && response.statusCode < 300;
          if (ok) {
            const latency = performance.now() - scheduled;
            latencies[completed++] = latency;
            (byRoute[spec.route] ??= []).push(latency);
          } else fail(`status ${response.statusCode}`);
          settle();
        });
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      fail(error.code ?? error.message);
      settle();
    });
    request.end(spec.body);
    sent++;
  };

  const start = performance.now() + 5;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) send(start + sent * interval);
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(tick, 5);
  });
  if (settled < total) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.drainMs ?? 10_000);
      onAllSettled = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  agent.destroy();
  if (total > settled) failures.unanswered = total - settled;
  failed += total - settled;
  return {
    latencies: latencies.subarray(0, completed),
    byRoute,
    sent,
    completed,
    failed,
    failures,
    rate,
  };
}

/** The `q` quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}
