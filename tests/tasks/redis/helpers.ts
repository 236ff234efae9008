import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type RedisTaskBackend, redisTaskBackend } from '../../../src/tasks/backends/redis.js';
import type { NewTask } from '../../../src/tasks/types.js';
import { eventually } from '../../support/eventually.js';
import { REDIS_URL } from '../../support/requirements.js';

/** A fresh key prefix per test, so parallel test files never share keys. */
export function testPrefix(label = 'tasks'): string {
  return `test:${label}:${randomUUID().slice(0, 12)}`;
}

/** Every key under `prefix` on one node (SCAN, so it works on a busy shared Redis). */
export async function keysOf(client: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found.sort();
}

/** Deletes every key under `prefix` (one by one on a Cluster node: keys span slots). */
export async function deleteKeys(client: Redis | Cluster, prefix: string): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    const keys = await keysOf(node, prefix);
    for (const key of keys) await node.del(key);
  }
}

/** A plain client on the test Redis, for inspection and cleanup. */
export function adminClient(): Redis {
  return new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 3 });
}

/** What {@link redisBackends} gives a describe block. */
export interface RedisBackends {
  /** A plain client for inspection (from `beforeAll` on). */
  readonly admin: Redis;
  /** A fresh prefix, whose keys are deleted after the block. */
  prefix(): string;
  /** A backend with its own connections on `prefix` (by default the latest one made). */
  backend(prefix?: string): RedisTaskBackend;
  /** Resolves once a backend on `prefix` is subscribed to its task events. */
  subscribed(prefix: string): Promise<void>;
}

/**
 * Redis task backends for one describe block: each on a prefix of its test, all closed and their
 * keys deleted after the block.
 */
export function redisBackends(label: string): RedisBackends {
  let admin: Redis | undefined;
  const prefixes: string[] = [];
  const backends: RedisTaskBackend[] = [];
  beforeAll(() => {
    admin = adminClient();
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
    for (const prefix of prefixes) await deleteKeys(admin!, prefix);
    await admin!.quit();
  });
  const prefix = () => {
    const made = testPrefix(label);
    prefixes.push(made);
    return made;
  };
  return {
    get admin() {
      return admin!;
    },
    prefix,
    backend(on = prefixes.at(-1) ?? prefix()) {
      const created = redisTaskBackend({ url: REDIS_URL, prefix: on });
      backends.push(created);
      return created;
    },
    async subscribed(on) {
      await eventually(async () => {
        const [, subscribers] = (await admin!.pubsub('NUMSUB', `${on}:events`)) as [string, number];
        return Number(subscribers) >= 1;
      }, 'a backend subscribed to task events');
    },
  };
}

/** The Cluster nodes of TEST_REDIS_CLUSTER_NODES, when set. */
export const clusterNodes = process.env.TEST_REDIS_CLUSTER_NODES?.split(',').map((node) => {
  const [host, port] = node.split(':');
  return { host: host!, port: Number(port) };
});

/**
 * Starts `fixtures/<fixture>` in a child Node process (with tsx) on the test Redis. `lines` feeds
 * each stdout line to `onLine` until it returns true (15 s at most); `exited` resolves once the
 * child exited and all its output was read.
 */
export function spawnWorker(
  fixture: string,
  env: Record<string, string>,
): {
  process: ChildProcess;
  exited: Promise<void>;
  lines: (onLine: (line: string) => boolean) => Promise<void>;
} {
  const path = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path], {
    env: { ...process.env, REDIS_URL, WORK_MS: '15', BATCH: '5', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const reader = createInterface({ input: child.stdout! });
  // Exited, and every line it wrote has been read.
  const exited = Promise.all([
    new Promise<void>((resolve) => child.once('exit', () => resolve())),
    new Promise<void>((resolve) => reader.once('close', () => resolve())),
  ]).then(() => undefined);
  return {
    process: child,
    exited,
    lines: (onLine) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`worker child gave up: ${stderr.slice(-2_000)}`)),
          15_000,
        );
        reader.on('line', (line) => {
          if (onLine(line)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`worker child exited (${code}): ${stderr.slice(-2_000)}`));
        });
      }),
  };
}

/**
 * Starts `n` children of fixtures/group-worker.ts and waits until each is ready. `outputs[i]`
 * keeps collecting every line child `i` writes; `kill(i)` ends one with SIGKILL; `stop()` ends the
 * others with SIGTERM (each writes its figures and `bye`).
 */
export async function startGroupWorkers(n: number, env: Record<string, string>) {
  const children = Array.from({ length: n }, () => spawnWorker('group-worker.ts', env));
  const outputs = children.map(() => [] as string[]);
  const killed = new Set<number>();
  await Promise.all(
    children.map((child, i) =>
      child.lines((line) => {
        outputs[i]!.push(line);
        return line === 'ready';
      }),
    ),
  );
  // The listeners above keep collecting every later line into `outputs`.
  return {
    outputs,
    async kill(i: number) {
      killed.add(i);
      children[i]!.process.kill('SIGKILL');
      await children[i]!.exited;
    },
    async stop() {
      const alive = children.filter((_, i) => !killed.has(i));
      const byes = alive.map((child) =>
        child.lines((line) => line === 'bye').catch(() => undefined),
      );
      for (const child of alive) child.process.kill('SIGTERM');
      await Promise.all(byes);
      for (const child of alive) child.process.kill('SIGKILL');
      await Promise.all(children.map((child) => child.exited));
    },
  };
}

/** A task ready now, with a short fixed backoff, for tests that drive a backend directly. */
export function newTask(queue: string, overrides: Partial<NewTask> = {}): NewTask {
  const now = Date.now();
  return {
    id: randomUUID(),
    name: 'job',
    queue,
    payload: '{}',
    priority: 50,
    runAt: now,
    maxRetries: 3,
    backoff: { type: 'fixed', delayMs: 10, factor: 1, maxDelayMs: 10, jitter: 0 },
    timeoutMs: 0,
    dependsOn: [],
    failOnDependencyFailure: true,
    createdAt: now,
    ...overrides,
  };
}
