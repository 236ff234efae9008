/**
 * One process of bench:service, started by the benchmark: `service <ours|peers|bound> <http|worker>`
 * or `hello <fastify|express> <variant>`. It tells the parent its port once listening, and answers
 * the parent's questions over IPC: `figures` (CPU time so far, RSS, tasks done and their
 * latencies since the last question, tasks submitted, the longest event-loop delay since then) and `stop` (closes, then exits).
 */
import { Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { queryCount } from './catalogue-db.js';
import type { Running, ServiceConfig } from './contract.js';

/** What the parent receives for `figures`. */
export interface ChildFigures {
  /** CPU time (user + system) of this process so far, µs. */
  cpuUs: number;
  rssBytes: number;
  tasksDone: number;
  /** Submit → done latencies of the tasks done since the last `figures` (ms). */
  taskLatencies: number[];
  submitted: number;
  /** PostgreSQL queries sent so far. */
  dbQueries: number;
  /** Socket writes so far by destination (`redis`, `pg`, `other`), with BENCH_SOCKET_WRITES. */
  socketWrites: Record<string, number>;
  /** Longest event-loop delay since the last `figures` (ms): how long the process stalled. */
  maxEventLoopDelayMs: number;
}

export interface ChildRequest {
  id: number;
  type: 'figures' | 'stop';
}

/**
 * Socket writes (each one a `write`/`writev` system call) by the remote port they went to, counted
 * when BENCH_SOCKET_WRITES is set: how many trips to Redis, PostgreSQL and the HTTP clients each
 * request costs. For diagnosis only (it wraps a Node internal).
 */
const socketWrites: Record<string, number> = {};
if (process.env.BENCH_SOCKET_WRITES !== undefined) {
  const proto = Socket.prototype as unknown as { _writeGeneric: (...args: unknown[]) => unknown };
  const original = proto._writeGeneric;
  proto._writeGeneric = function (this: Socket, ...args: unknown[]) {
    const port = this.remotePort;
    const key = port === 6379 ? 'redis' : port === 5432 ? 'pg' : 'other';
    socketWrites[key] = (socketWrites[key] ?? 0) + 1;
    return original.apply(this, args);
  };
}

async function start(): Promise<Running> {
  const [kind, name, role] = process.argv.slice(2);
  if (kind === 'hello') {
    const { startHello } = await import('./hello-apps.js');
    return startHello(name as never, role as never);
  }
  const config = JSON.parse(process.env.BENCH_SERVICE_CONFIG ?? '{}') as ServiceConfig;
  const implementation =
    name === 'ours' || name === 'baseline'
      ? await import('./ours.js')
      : name === 'peers'
        ? await import('./peers.js')
        : await import('./bound.js');
  if (role === 'worker') {
    if (!('startWorker' in implementation)) throw new Error(`${name} has no worker`);
    return (implementation as typeof import('./ours.js')).startWorker(config);
  }
  return implementation.startHttp(config);
}

const running = await start();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
process.on('message', async (message: ChildRequest) => {
  if (message.type === 'figures') {
    const cpu = process.cpuUsage();
    const figures: ChildFigures = {
      cpuUs: cpu.user + cpu.system,
      rssBytes: process.memoryUsage.rss(),
      tasksDone: running.tasks?.done ?? 0,
      taskLatencies: running.tasks?.take() ?? [],
      submitted: running.submitted?.() ?? 0,
      dbQueries: queryCount.value,
      socketWrites: { ...socketWrites },
      maxEventLoopDelayMs: loopDelay.max / 1e6,
    };
    loopDelay.reset();
    process.send?.({ id: message.id, figures });
  } else if (message.type === 'stop') {
    try {
      await running.close();
    } finally {
      process.send?.({ id: message.id, stopped: true }, () => process.exit(0));
    }
  }
});
process.send?.({ ready: true, port: running.port, metrics: running.metrics });
