import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index.js';
import {
  checkTimeout,
  createClient,
  quitClient,
  resolveClient,
  whenReady,
} from '../../src/redis/client.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';

describe('Redis client options', () => {
  it('refuses a non-positive or non-finite timeout, naming the option', () => {
    expect(checkTimeout(250, 'commandTimeoutMs')).toBe(250);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1000']) {
      expect(() => checkTimeout(bad, 'commandTimeoutMs')).toThrow(/commandTimeoutMs=/);
    }
  });

  it('wants either a client or a URL', () => {
    const given = { status: 'wait' } as unknown as Redis;
    expect(() => resolveClient({ client: given, url: REDIS_URL }, 100, 'owner')).toThrow(
      /owner: give either client or url/,
    );
    expect(() => resolveClient({}, 100, 'owner')).toThrow(InvalidArgumentError);
    expect(resolveClient({ client: given }, 100, 'owner')).toEqual({ client: given, owned: false });
  });
});

describe.runIf(requires(redis))('Redis client from a URL (real Redis)', () => {
  let admin: Redis;
  const key = `test:redis-client:${randomUUID()}`;

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.del(key);
    await admin.quit();
  });

  it('connects, applies the command timeout and quits for good', async () => {
    const errors: Error[] = [];
    const { client, owned } = resolveClient(
      { url: REDIS_URL, onError: (error) => errors.push(error) },
      150,
      'test',
    );
    expect(owned).toBe(true);
    await whenReady(client, 2_000);
    expect(client.status).toBe('ready');
    await client.set(key, 'v');
    expect(await client.get(key)).toBe('v');
    // A command Redis holds longer than the timeout rejects instead of hanging the caller.
    await expect((client as Redis).blpop(`${key}:never`, 1)).rejects.toThrow(/timed out/i);
    await quitClient(client);
    expect(client.status).toBe('end');
    await expect(whenReady(client, 100)).rejects.toThrow(/closed/);
    expect(errors).toEqual([]);
  });

  it('fails fast while Redis cannot be reached, and reports errors to onError only', async () => {
    const errors: Error[] = [];
    const client = createClient('redis://127.0.0.1:1', 100, (error) => errors.push(error));
    await expect(whenReady(client, 200)).rejects.toThrow(/not connected to Redis after 200 ms/);
    await expect(client.get(key)).rejects.toThrow();
    await quitClient(client);
    expect(errors.length).toBeGreaterThan(0);
  });
});
