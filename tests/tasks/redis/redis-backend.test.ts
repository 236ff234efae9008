import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/core/errors.js';
import {
  type RedisTaskBackend,
  redisTaskBackend,
  TaskBackendError,
} from '../../../src/tasks/backends/redis.js';
import { TaskDependencyError } from '../../../src/tasks/errors.js';
import type { TaskBackend } from '../../../src/tasks/types.js';
import { eventually } from '../../support/eventually.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import { adminClient, deleteKeys, keysOf, newTask, spawnWorker, testPrefix } from './helpers.js';

const task = newTask;

/**
 * Records the commands `client` sends from now on, in order: the name, and for EVALSHA the number
 * of keys (`evalsha:6`), which tells the scripts apart.
 */
function recordCommands(client: Redis): string[] {
  const sent: string[] = [];
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command) => {
    sent.push(command.name === 'evalsha' ? `evalsha:${command.args[1]}` : command.name);
    return send(command);
  }) as typeof client.sendCommand;
  return sent;
}

/**
 * A minimal worker loop on a backend: claims up to `batch`, completes each task, waits for work
 * when idle. `seen` gets every id it ran (with repeats).
 */
function consume(
  backend: TaskBackend,
  queue: string,
  seen: string[],
  options: { batch?: number; leaseMs?: number; workMs?: number } = {},
): { stop: () => Promise<void>; errors: unknown[] } {
  const controller = new AbortController();
  const errors: unknown[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const claimed = await backend.claim(
          queue,
          'test-worker',
          options.batch ?? 10,
          options.leaseMs ?? 30_000,
        );
        if (claimed.length === 0) {
          await backend.waitForWork(queue, 500, controller.signal);
          continue;
        }
        if (options.workMs) await sleep(options.workMs);
        for (const c of claimed) seen.push(c.task.id);
        await backend.finish(
          queue,
          claimed.map((c) => ({
            kind: 'completed' as const,
            id: c.task.id,
            token: c.token,
            result: '"parent"',
            finishedAt: Date.now(),
          })),
        );
      } catch (error) {
        // A dropped connection surfaces here; the loop goes on, as an engine's would.
        errors.push(error);
        await sleep(20);
      }
    }
  })();
  return {
    errors,
    stop: async () => {
      running = false;
      controller.abort();
      await loop;
    },
  };
}

/** How long these tests wait for Redis-side effects (connections, events, recovered leases). */
const WAIT_MS = 10_000;

describe.runIf(requires(redis))('redis task backend', () => {
  let admin: Redis;
  let prefix: string;
  const open: RedisTaskBackend[] = [];
  const make = (options: Parameters<typeof redisTaskBackend>[0] = {}) => {
    const backend = redisTaskBackend({ url: REDIS_URL, prefix, ...options });
    open.push(backend);
    return backend;
  };

  beforeAll(() => {
    admin = adminClient();
  });
  afterAll(async () => {
    await admin.quit();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((backend) => backend.close()));
    await deleteKeys(admin, prefix);
  });
  // A fresh prefix per test (set before each, used by make()).
  const fresh = () => {
    prefix = testPrefix('redis');
    return prefix;
  };

  describe('options', () => {
    it('refuses both a url and a client, a prefix with braces, and a client with keyPrefix', async () => {
      fresh();
      expect(() => redisTaskBackend({ url: REDIS_URL, client: admin })).toThrow(
        InvalidArgumentError,
      );
      expect(() => redisTaskBackend({ url: REDIS_URL, prefix: 'a{b}' })).toThrow(
        InvalidArgumentError,
      );
      expect(() => redisTaskBackend({})).toThrow(InvalidArgumentError);
      const prefixed = new Redis(REDIS_URL, { keyPrefix: 'x:', lazyConnect: true });
      expect(() => redisTaskBackend({ client: prefixed })).toThrow(/keyPrefix/);
      prefixed.disconnect();
      expect(() =>
        redisTaskBackend({ url: REDIS_URL, retention: { completed: { count: -1 } } }),
      ).toThrow(InvalidArgumentError);
    });

    it('opens no connection until used, and closes the ones it opened', async () => {
      fresh();
      const backend = make();
      expect(backend.client.status).toBe('wait');
      await backend.add([task('q')]);
      await backend.waitForWork('q', 50, new AbortController().signal);
      backend.subscribe(() => undefined);
      await eventually(
        async () => {
          const list = await admin.client('LIST');
          return String(list).includes(`name=${prefix}:events`);
        },
        'the subscriber connection',
        WAIT_MS,
      );
      const names = String(await admin.client('LIST'));
      expect(names).toContain(`name=${prefix}:cmd`);
      expect(names).toContain(`name=${prefix}:wait`);
      await backend.close();
      await eventually(
        async () => !String(await admin.client('LIST')).includes(prefix),
        'close',
        WAIT_MS,
      );
      await expect(backend.claim('q', 'w', 1, 1000)).rejects.toThrow(TaskBackendError);
    });

    it('never closes a client it was given', async () => {
      fresh();
      const client = new Redis(REDIS_URL);
      try {
        const backend = make({ url: undefined, client });
        await backend.add([task('q')]);
        await backend.waitForWork('q', 20, new AbortController().signal);
        await backend.close();
        expect(await client.ping()).toBe('PONG');
      } finally {
        await client.quit();
      }
    });

    it('rejects with a TaskBackendError, in bounded time, when Redis cannot be reached', async () => {
      fresh();
      const backend = make({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 300 });
      const started = Date.now();
      await expect(backend.claim('q', 'w', 1, 1000)).rejects.toThrow(TaskBackendError);
      expect(Date.now() - started).toBeLessThan(3_000);
    });
  });

  describe('keys', () => {
    it('keeps every key of a queue under its {queue} hash tag and prefix', async () => {
      fresh();
      const backend = make();
      const [a, b] = [task('orders'), task('orders')];
      const c = task('orders', { dependsOn: [a.id, b.id] });
      const d = task('orders', { runAt: Date.now() + 60_000 });
      await backend.add([a, b, c, d]);
      const claimed = await backend.claim('orders', 'w', 1, 10_000);
      await backend.finish('orders', [
        {
          kind: 'completed',
          id: claimed[0]!.task.id,
          token: claimed[0]!.token,
          result: '1',
          finishedAt: Date.now(),
        },
      ]);
      await backend.heartbeat(
        {
          id: 'w',
          queue: 'orders',
          host: 'h',
          pid: 1,
          concurrency: 1,
          active: 0,
          processed: 0,
          failed: 0,
          startedAt: Date.now(),
          lastHeartbeatAt: Date.now(),
        },
        10_000,
      );
      await backend.pause('orders');
      await backend.claimScheduleSlot('nightly', 1_000, 10_000);
      const keys = await keysOf(admin, prefix);
      expect(keys.length).toBeGreaterThan(8);
      for (const key of keys) {
        expect(key).toMatch(
          new RegExp(`^${prefix}:(\\{orders\\}:|queues$|schedule:\\{nightly\\}:1000$)`),
        );
      }
    });

    it('escapes queue names that hold braces or colons', async () => {
      fresh();
      const backend = make();
      const t = task('a{b}:c');
      await backend.add([t]);
      expect((await backend.get('a{b}:c', t.id))?.id).toBe(t.id);
      expect(await backend.queues()).toEqual(['a{b}:c']);
      const keys = await keysOf(admin, prefix);
      for (const key of keys.filter((k) => !k.endsWith(':queues'))) {
        expect(key.startsWith(`${prefix}:{a%7Bb%7D%3Ac}:`)).toBe(true);
      }
    });
  });

  describe('add', () => {
    it('stores nothing of a call that spans queues when one queue refuses its part', async () => {
      fresh();
      const backend = make();
      const first = task('one');
      const second = task('two', { dependsOn: ['no-such-task'] });
      await expect(backend.add([first, second])).rejects.toThrow(TaskDependencyError);
      expect(await backend.get('one', first.id)).toBeUndefined();
      expect(await backend.get('two', second.id)).toBeUndefined();
      const outcomes = await backend.add([first, task('two')]);
      expect(outcomes.map((o) => [o.created, o.state])).toEqual([
        [true, 'waiting'],
        [true, 'waiting'],
      ]);
    });
  });

  describe('worker registry', () => {
    it('drops workers that stopped without a word on the next heartbeats, with nobody listing', async () => {
      fresh();
      const backend = make();
      const queue = 'registry';
      const worker = (id: string) => ({
        id,
        queue,
        host: 'h',
        pid: 1,
        concurrency: 1,
        active: 0,
        processed: 0,
        failed: 0,
        startedAt: Date.now(),
        lastHeartbeatAt: Date.now(),
      });
      // Thirty processes heartbeat once and die.
      for (let i = 0; i < 30; i++) await backend.heartbeat(worker(`crashed-${i}`), 50);
      const hash = `${prefix}:{${queue}}:workers`;
      expect(await admin.hlen(hash)).toBe(30);
      await sleep(120);
      // A live one keeps heartbeating; nobody calls workers().
      for (let beat = 0; beat < 2; beat++) await backend.heartbeat(worker('alive'), 10_000);
      expect(await admin.hlen(hash)).toBe(1);
      expect(await admin.zcard(`${prefix}:{${queue}}:workers:exp`)).toBe(1);
    });
  });

  describe('retention', () => {
    it('keeps Redis bounded over a long run: the key count stays flat', async () => {
      fresh();
      const backend = make({
        retention: { completed: { count: 50, ageMs: 3_600_000 }, dead: { count: 20 } },
      });
      const queue = 'long';
      const counts: number[] = [];
      for (let round = 0; round < 15; round++) {
        await backend.add(
          Array.from({ length: 200 }, () => task(queue, { payload: 'x'.repeat(500) })),
        );
        for (;;) {
          const claimed = await backend.claim(queue, 'w', 100, 10_000);
          if (claimed.length === 0) break;
          await backend.finish(
            queue,
            claimed.map((c, i) =>
              i % 10 === 0
                ? {
                    kind: 'dead' as const,
                    id: c.task.id,
                    token: c.token,
                    error: { name: 'Error', message: 'no' },
                    finishedAt: Date.now(),
                  }
                : {
                    kind: 'completed' as const,
                    id: c.task.id,
                    token: c.token,
                    result: 'y'.repeat(500),
                    finishedAt: Date.now(),
                  },
            ),
          );
        }
        // Request memos expire by themselves (checked below); the rest is bounded by retention.
        counts.push((await keysOf(admin, prefix)).filter((key) => !key.includes('}:req:')).length);
      }
      const memos = (await keysOf(admin, prefix)).filter((key) => key.includes('}:req:'));
      expect(memos.length).toBeGreaterThan(0);
      for (const key of memos) {
        const ttl = await admin.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(30_000);
      }
      // 3,000 tasks ran; only the kept ones (50 + 20, a hash and a payload each) and the queue's
      // own keys remain.
      const c = await backend.counts(queue);
      expect(c.completed).toBe(50);
      expect(c.dead).toBe(20);
      expect(Math.max(...counts)).toBeLessThanOrEqual(2 * (50 + 20) + 10);
      expect(counts.at(-1)).toBe(counts[2]);
      // No payload outlives its task, and no kept task lost its payload.
      const keys = (await keysOf(admin, prefix)).filter((key) => !key.includes('}:req:'));
      const ids = (kind: string) =>
        keys
          .filter((key) => key.startsWith(`${prefix}:{${queue}}:${kind}:`))
          .map((key) => key.slice(`${prefix}:{${queue}}:${kind}:`.length))
          .sort();
      expect(ids('p')).toHaveLength(70);
      expect(ids('p')).toEqual(ids('t'));
      // Purging the dead letters takes their payloads along.
      expect(await backend.purgeDead(queue)).toBe(20);
      const left = await keysOf(admin, prefix);
      expect(left.filter((key) => key.includes(':p:'))).toHaveLength(50);
      expect(left.filter((key) => key.includes(':t:'))).toHaveLength(50);
    });

    it('keeps each payload out of the task hash, read back by claim, get and the dead letter list', async () => {
      fresh();
      const backend = make();
      const payload = JSON.stringify({ big: 'z'.repeat(5_000) });
      const t = task('pl', { payload, maxRetries: 0 });
      const other = task('pl', { payload: '{"small":1}' });
      await backend.add([t, other]);
      const hash = await admin.hgetall(`${prefix}:{pl}:t:${t.id}`);
      expect(hash.s).toBe('waiting');
      expect(Object.values(hash).some((value) => value.includes('zzzz'))).toBe(false);
      expect(await admin.get(`${prefix}:{pl}:p:${t.id}`)).toBe(payload);
      expect((await backend.get('pl', t.id))?.payload).toBe(payload);
      // A small claim gets its payloads from the script, a large one by MGET.
      const [claimed] = await backend.claim('pl', 'w', 1, 10_000);
      expect(claimed?.task.payload).toBe(payload);
      const [large] = await backend.claim('pl', 'w', 100, 10_000);
      expect(large?.task.payload).toBe('{"small":1}');
      await backend.finish('pl', [
        {
          kind: 'dead',
          id: t.id,
          token: claimed!.token,
          error: { name: 'Error', message: 'no' },
          finishedAt: Date.now(),
        },
      ]);
      const [dead] = await backend.listDead('pl', 0, 10);
      expect(dead?.payload).toBe(payload);
      // A second add of the same id changes nothing, its payload included.
      await backend.add([{ ...t, payload: '"other"' }]);
      expect((await backend.get('pl', t.id))?.payload).toBe(payload);
    });
  });

  describe('claims', () => {
    it('sends the payload read of a claim before a finish asked for while the claim script ran', async () => {
      fresh();
      const client = new Redis(REDIS_URL);
      try {
        const backend = make({ client, url: undefined });
        await backend.add(Array.from({ length: 4 }, () => task('order')));
        // Loads the scripts, so that each call below is one EVALSHA.
        const [first] = await backend.claim('order', 'w', 1, 10_000);
        const sent = recordCommands(client);
        const [claimed, results] = await Promise.all([
          // Large enough for the payloads to come by MGET (small claims get them inline).
          backend.claim('order', 'w', 100, 10_000),
          backend.finish('order', [
            {
              kind: 'completed',
              id: first!.task.id,
              token: first!.token,
              result: '1',
              finishedAt: Date.now(),
            },
          ]),
        ]);
        expect(claimed.map((c) => c.task.payload)).toEqual(['{}', '{}', '{}']);
        expect(results[0]?.accepted).toBe(true);
        // The claim (7 keys), its payloads, then the finish (8 keys and the task's).
        expect(sent).toEqual(['evalsha:7', 'mget', 'evalsha:9']);
      } finally {
        await client.quit();
      }
    });
  });

  describe('small claims', () => {
    it('answers a claim of a few tasks, payloads included, in one command', async () => {
      fresh();
      const client = new Redis(REDIS_URL);
      try {
        const backend = make({ client, url: undefined });
        await backend.add([task('small', { payload: '{"a":1}' }), task('small')]);
        // Loads the claim script, so that the claim below is one EVALSHA.
        await backend.claim('warm', 'w', 1, 10_000);
        const sent = recordCommands(client);
        const claimed = await backend.claim('small', 'w', 8, 10_000);
        expect(claimed.map((c) => c.task.payload)).toEqual(['{"a":1}', '{}']);
        // The claim script (7 keys), payloads inline.
        expect(sent).toEqual(['evalsha:7']);
      } finally {
        await client.quit();
      }
    });
  });

  describe('claimed fields', () => {
    // A claim joins the fields that cannot hold a line break into one text (see CLAIM); the ones
    // that can (ids, names, errors, progress) must come back intact, by either kind of claim.
    for (const [kind, max] of [
      ['a small claim (payloads inline)', 8],
      ['a large claim (payloads by MGET)', 100],
    ] as const) {
      it(`hands out every field intact, line breaks included, in ${kind}`, async () => {
        fresh();
        const backend = make();
        const createdAt = Date.now() - 5_000;
        const submitted = task('fields', {
          id: 'id\nwith a break',
          name: 'name\nwith a break',
          payload: '{"text":"a\\nb"}',
          priority: 7,
          runAt: createdAt,
          maxRetries: 4,
          backoff: { type: 'exponential', delayMs: 250, factor: 3, maxDelayMs: 9_000, jitter: 0.5 },
          timeoutMs: 1_500,
          failOnDependencyFailure: false,
          createdAt,
        });
        await backend.add([submitted]);
        const [first] = await backend.claim('fields', 'w', max, 10_000);
        expect(first?.task.attempts).toBe(1);
        expect(
          await backend.setProgress(
            'fields',
            { id: first!.task.id, token: first!.token },
            '"half\\nway"',
          ),
        ).toBe(true);
        const error = { name: 'Error', message: 'first line\nsecond line', stack: 'Error\n  at x' };
        const [retried] = await backend.finish('fields', [
          { kind: 'retry', id: first!.task.id, token: first!.token, error, runAt: Date.now() },
        ]);
        expect(retried?.accepted).toBe(true);
        const [second] = await backend.claim('fields', 'w', max, 10_000);
        expect(second?.token).toMatch(/^\d+$/);
        expect(second?.token).not.toBe(first?.token);
        expect(second?.task).toMatchObject({
          id: submitted.id,
          name: submitted.name,
          queue: 'fields',
          payload: submitted.payload,
          priority: 7,
          runAt: createdAt,
          maxRetries: 4,
          backoff: submitted.backoff,
          timeoutMs: 1_500,
          dependsOn: [],
          failOnDependencyFailure: false,
          createdAt,
          state: 'active',
          attempts: 2,
          workerId: 'w',
          error,
          progress: '"half\\nway"',
        });
      });
    }
  });

  describe('waiting for work', () => {
    it('wakes the waiting workers of several processes, one wake-up chaining to the next', async () => {
      fresh();
      const producer = make();
      const a = make();
      const b = make();
      const signal = new AbortController().signal;
      // Warm the blocking connections so both are waiting when the tasks arrive.
      await Promise.all([a.waitForWork('q', 20, signal), b.waitForWork('q', 20, signal)]);
      const woke: string[] = [];
      const started = Date.now();
      const waits = [
        a.waitForWork('q', 5_000, signal).then(async () => {
          woke.push('a');
          await a.claim('q', 'a', 1, 10_000);
        }),
        b.waitForWork('q', 5_000, signal).then(async () => {
          woke.push('b');
          await b.claim('q', 'b', 1, 10_000);
        }),
      ];
      await sleep(100);
      await producer.add(Array.from({ length: 20 }, () => task('q')));
      await Promise.all(waits);
      expect(woke.sort()).toEqual(['a', 'b']);
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('resumes a wait whose connection was killed', async () => {
      fresh();
      const backend = make();
      const producer = make();
      const signal = new AbortController().signal;
      await backend.waitForWork('q', 20, signal);
      const started = Date.now();
      const waiting = backend.waitForWork('q', 8_000, signal);
      await sleep(100);
      await killConnections(admin, `${prefix}:wait`);
      await sleep(300);
      await producer.add([task('q')]);
      await waiting;
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(await backend.claim('q', 'w', 1, 1_000)).toHaveLength(1);
    });
  });

  describe('dropped connections', () => {
    it('keeps consuming through CLIENT KILL of every connection, losing nothing', async () => {
      fresh();
      const backend = make();
      const producer = make();
      const queue = 'kill';
      const ids = new Set<string>();
      const seen: string[] = [];
      const events: string[] = [];
      backend.subscribe((event) => {
        if (event.type === 'completed') events.push(event.id);
      });
      const pool = consume(backend, queue, seen, { batch: 5, workMs: 2, leaseMs: 2_000 });
      let killed = 0;
      for (let round = 0; round < 6; round++) {
        const batch = Array.from({ length: 100 }, () => task(queue));
        for (const t of batch) ids.add(t.id);
        await producer.add(batch);
        await sleep(150);
        // Every connection of the consuming backend: commands, blocking wait, subscriber.
        killed += await killConnections(admin, `${prefix}:`, producer);
      }
      expect(killed).toBeGreaterThanOrEqual(6);
      // Tasks claimed just before a kill may have lost their claim reply: the lease brings them back.
      await eventually(
        async () => {
          await producer.recoverExpired(queue, Date.now());
          const c = await producer.counts(queue);
          return c.completed === 600 && c.active === 0 && c.waiting === 0;
        },
        'every task completed',
        15_000,
      );
      await pool.stop();
      expect(new Set(seen)).toEqual(ids);
      // The subscriber came back too: completions after the last kill are heard.
      const last = task(queue);
      await producer.add([last]);
      const again = consume(backend, queue, seen);
      await eventually(() => events.includes(last.id), 'an event after the kills', WAIT_MS);
      await again.stop();
    });
  });

  describe('crash of a worker process', () => {
    it('hands the tasks of a SIGKILLed worker out again after its lease, fencing the dead worker out', async () => {
      fresh();
      const backend = make();
      const queue = 'crash';
      const all = Array.from({ length: 120 }, () => task(queue));
      await backend.add(all);
      const leaseMs = 1_500;
      const child = spawnWorker('claim-worker.ts', {
        PREFIX: prefix,
        QUEUE: queue,
        LEASE_MS: String(leaseMs),
      });
      const claimed = new Map<string, string>();
      const done = new Set<string>();
      try {
        await child.lines((line) => {
          const [kind, id, token] = line.split(' ');
          if (kind === 'claimed') claimed.set(id!, token!);
          if (kind === 'done') done.add(id!);
          // Kill it while it holds tasks it has not acknowledged.
          return kind === 'claimed' && done.size >= 30;
        });
      } finally {
        child.process.kill('SIGKILL');
        await child.exited;
      }
      const inFlight = [...claimed.keys()].filter((id) => !done.has(id));
      expect(inFlight.length).toBeGreaterThan(0);
      // Before the lease ends nothing is recovered: the tasks are still held by the dead worker.
      expect(await backend.recoverExpired(queue, Date.now())).toBe(0);
      await sleep(leaseMs + 100);
      const recovered = await backend.recoverExpired(queue, Date.now());
      expect(recovered).toBeGreaterThan(0);
      // The dead worker's late acknowledgement is refused: its token no longer holds the lease.
      const stale = inFlight[0]!;
      const [late] = await backend.finish(queue, [
        {
          kind: 'completed',
          id: stale,
          token: claimed.get(stale)!,
          result: '"late"',
          finishedAt: Date.now(),
        },
      ]);
      expect(late?.accepted).toBe(false);
      // This process finishes the run.
      const seen: string[] = [];
      const pool = consume(backend, queue, seen);
      await eventually(
        async () => (await backend.counts(queue)).completed === all.length,
        'all',
        WAIT_MS,
      );
      await pool.stop();
      // No task lost; run twice only if it was in flight when the worker died.
      for (const t of all) expect((await backend.get(queue, t.id))?.state).toBe('completed');
      const twice = seen.filter((id) => claimed.has(id));
      for (const id of twice) expect(inFlight).toContain(id);
      for (const id of done) expect(seen).not.toContain(id);
      const record = await backend.get(queue, stale);
      expect(record?.attempts).toBe(2);
      expect(record?.result).toBe('"parent"');
    }, 30_000);
  });
});

/** CLIENT KILL ID of every connection whose name starts with `namePrefix`, but `spare`'s. */
async function killConnections(
  admin: Redis,
  namePrefix: string,
  spare?: RedisTaskBackend,
): Promise<number> {
  const spared = spare ? String(await spare.client.client('ID')) : undefined;
  const list = String(await admin.client('LIST'));
  let killed = 0;
  for (const line of list.split('\n')) {
    const id = /\bid=(\d+)/.exec(line)?.[1];
    const name = /\bname=(\S*)/.exec(line)?.[1] ?? '';
    if (id === undefined || !name.startsWith(namePrefix) || id === spared) continue;
    killed += Number(await admin.client('KILL', 'ID', id).catch(() => 0));
  }
  return killed;
}
