// A Redis server of one test file's own, for faults that would reach every other suite on the
// shared test Redis (SCRIPT FLUSH, FLUSHALL, a restart).
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { tool } from './requirements.js';

/** `redis-server` on PATH (Debian's `redis-server` package). */
export const redisServer = tool(
  'redis-server',
  'install it with `apt-get install redis-server` (the suite starts a server of its own)',
);

/** A running private server: its URL, a client for the test, and `stop()`. */
export interface PrivateRedis {
  url: string;
  port: number;
  admin: Redis;
  stop(): Promise<void>;
}

/** A free loopback port (the OS picks one; a race with another process is unlikely here). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts `redis-server` on a free loopback port, without persistence, and waits until it answers.
 *
 * @example
 * ```ts
 * const redis = await startPrivateRedis();
 * await redis.admin.script('FLUSH'); // only this server forgets its scripts
 * await redis.stop();
 * ```
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}/0`;
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  // Refusals while the server starts reject `connect()`; the event would only repeat them.
  admin.on('error', () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await admin.connect();
      await admin.ping();
      break;
    } catch (error) {
      admin.disconnect();
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not start: ${String(error)}`);
      }
      await sleep(50);
    }
  }
  return {
    url,
    port,
    admin,
    async stop() {
      admin.disconnect();
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A private server for the enclosing `describe`: started before its tests, stopped after them.
 * Read its members inside the tests (they exist from `beforeAll` on).
 *
 * @example
 * ```ts
 * describe.runIf(requires(redisServer))('...', () => {
 *   const redis = usePrivateRedis();
 *   it('...', async () => { await redis.admin.script('FLUSH'); });
 * });
 * ```
 */
export function usePrivateRedis(): Omit<PrivateRedis, 'stop'> {
  let server: PrivateRedis | undefined;
  const started = () => {
    if (server === undefined) throw new Error('the private Redis starts in beforeAll');
    return server;
  };
  beforeAll(async () => {
    server = await startPrivateRedis();
  }, 20_000);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get url() {
      return started().url;
    },
    get port() {
      return started().port;
    },
    get admin() {
      return started().admin;
    },
  };
}
