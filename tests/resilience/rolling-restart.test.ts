// Zero-downtime restarts: two instances (child processes with real HTTP servers, tasks and a
// schedule on a real Redis) behind a load balancer that follows their readiness, restarted one after
// the other with SIGTERM under steady requests and task submissions. Every request is answered 2xx,
// every submitted task runs, every schedule slot runs exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReadyProxy, startReadyProxy } from '../support/ready-proxy.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/rolling-instance.ts', import.meta.url));

interface Instance {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4_000);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not listen: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'listening') {
        clearTimeout(timer);
        resolve({ child, exited, stderr: () => stderr });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`instance exited (${code}) before listening: ${stderr}`));
    });
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.runIf(requires(redis))(
  'rolling restart behind a readiness-following load balancer',
  () => {
    const id = randomUUID().slice(0, 8);
    const queue = `rolling-${id}`;
    const schedule = `rolling-tick-${id}`;
    const results = `test:rolling:${id}`;
    let client: Redis;
    let proxy: ReadyProxy | undefined;
    const instances = new Set<Instance>();

    beforeAll(() => {
      client = new Redis(REDIS_URL);
    });

    afterAll(async () => {
      for (const instance of instances) instance.child.kill('SIGKILL');
      await proxy?.close();
      for (const pattern of [`*${queue}*`, `*${schedule}*`, `${results}:*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await client.del(...keys);
        } while (cursor !== '0');
      }
      await client.quit();
    });

    it('answers every request, loses no task and runs every schedule slot once', async () => {
      const ports = [await freePort(), await freePort()];
      const envOf = (port: number) => ({
        REDIS_URL,
        PORT: String(port),
        QUEUE: queue,
        SCHEDULE: schedule,
        RESULTS: results,
      });
      const launch = async (port: number) => {
        const instance = await startInstance(envOf(port));
        instances.add(instance);
        return instance;
      };
      const running = new Map<number, Instance>();
      for (const port of ports) running.set(port, await launch(port));
      proxy = await startReadyProxy({ upstreams: ports, readyPath: '/monitor/health/ready' });
      const lb = proxy;
      await until('both instances ready', () => lb.ready().length === 2, 30_000);

      // Steady load: six clients in a loop, one request at a time each; every other one submits.
      const statuses: string[] = [];
      const submitted: number[] = [];
      let n = 0;
      let loading = true;
      const loop = async () => {
        while (loading) {
          const submit = n % 2 === 0;
          const value = n++;
          const url = `http://127.0.0.1:${lb.port}${submit ? `/submit?n=${value}` : '/work'}`;
          try {
            const response = await fetch(url, { method: submit ? 'POST' : 'GET' });
            await response.text();
            if (response.status < 200 || response.status > 299) {
              statuses.push(`${response.status} ${url}`);
            } else if (submit) {
              submitted.push(value);
            }
          } catch (error) {
            statuses.push(`error ${url}: ${(error as Error).message}`);
          }
          await sleep(5);
        }
      };
      const clients = Array.from({ length: 6 }, () => loop());
      await sleep(1_500);

      for (const port of ports) {
        const old = running.get(port)!;
        old.child.kill('SIGTERM');
        expect(await old.exited, `exit code; stderr: ${old.stderr()}`).toBe(0);
        instances.delete(old);
        running.set(port, await launch(port));
        await until(`instance on ${port} ready again`, () => lb.ready().includes(port), 30_000);
        await sleep(1_000);
      }

      loading = false;
      await Promise.all(clients);
      const requests = n;

      expect({ statuses, failures: lb.failures }, lb.transitions.join('\n')).toEqual({
        statuses: [],
        failures: [],
      });
      expect(lb.failures).toEqual([]);
      // The balancer saw each instance not ready before it stopped accepting: nothing was refused.
      expect(lb.retries).toBe(0);
      expect(requests).toBeGreaterThan(50);

      // Every submitted task runs: none lost in a hand-over.
      await until(
        'every submitted task done',
        async () => (await client.hlen(`${results}:done`)) >= submitted.length,
        30_000,
      );
      const done = await client.hgetall(`${results}:done`);
      const missing = submitted.filter((value) => done[String(value)] === undefined);
      expect(missing).toEqual([]);

      // Every slot between the first and the last ran exactly once.
      await sleep(1_500);
      for (const instance of running.values()) instance.child.kill('SIGTERM');
      await Promise.all([...running.values()].map((instance) => instance.exited));
      const slots = await client.hgetall(`${results}:slots`);
      const times = Object.keys(slots)
        .map(Number)
        .sort((a, b) => a - b);
      expect(times.length).toBeGreaterThan(5);
      const twice = Object.entries(slots).filter(([, count]) => count !== '1');
      expect(twice).toEqual([]);
      const gaps = times.slice(1).filter((time, i) => time - times[i]! !== 1_000);
      expect(gaps).toEqual([]);
    }, 150_000);
  },
);
