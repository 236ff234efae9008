/**
 * What each implementation of bench:service gives the child process that runs it (child.ts), and
 * the task figures every implementation keeps the same way.
 */
import { performance } from 'node:perf_hooks';

/** Handed to every implementation by the benchmark (through the environment of its process). */
export interface ServiceConfig {
  /** Base name of the run's tables in the `test` database. */
  tables: string;
  redisUrl: string;
  /** Key prefix of this implementation in Redis (the benchmark deletes `<prefix>*` at the end). */
  prefix: string;
}

/** A started HTTP or worker process of one implementation. */
export interface Running {
  /** The HTTP port (HTTP processes). */
  port?: number;
  /** Path and headers of the Prometheus scrape, when the implementation serves one. */
  metrics?: { path: string; headers?: Record<string, string> };
  /** Tasks this process ran: the worker, or the HTTP process of the bound (it has no worker). */
  tasks?: TaskFigures;
  /** Tasks this process submitted. */
  submitted?: () => number;
  close(): Promise<void>;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The `send_confirmation` task's work: it waits 2 ms and uses no CPU. */
export const CONFIRMATION_MS = 2;

/** Completed tasks and their submit → done latencies, as the benchmark collects them. */
export class TaskFigures {
  done = 0;
  #latencies: number[] = [];

  /** Called by the handler when it is done with a task submitted at `submittedAt` ({@link wallMs}). */
  record(submittedAt: number): void {
    this.done++;
    this.#latencies.push(wallMs() - submittedAt);
  }

  /** The latencies recorded since the last call (ms). */
  take(): number[] {
    const taken = this.#latencies;
    this.#latencies = [];
    return taken;
  }
}

/** The payload of `send_confirmation`. */
export interface Confirmation {
  orderId: number;
  submittedAt: number;
}

/** The hello-world applications (hello-apps.ts). */
export type HelloFramework = 'fastify' | 'express';
export type HelloVariant = 'bare' | 'floor' | 'ours' | 'peers';
export const HELLO_VARIANTS: readonly HelloVariant[] = ['bare', 'floor', 'ours', 'peers'];
