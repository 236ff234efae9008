import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, quitClient, whenReady } from '../../src/redis/client.js';
import { luaScript, runScript } from '../../src/redis/scripts.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';

describe.runIf(requires(redis))('Lua scripts (real Redis)', () => {
  // A script no other test loads, so SCRIPT EXISTS tells what this test did.
  const INCR_BY = luaScript(`-- ${randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`);
  const key = `test:redis-scripts:${randomUUID()}`;
  let client: Redis;

  beforeAll(async () => {
    client = createClient(REDIS_URL, 1_000, undefined);
    await whenReady(client, 2_000);
  });
  afterAll(async () => {
    await client.del(key);
    await quitClient(client);
  });

  // The script is new to Redis, as after a restart, a failover or SCRIPT FLUSH (not sent here: it
  // would reach every other suite using this Redis).
  it('runs by EVAL when Redis does not know the script, then by EVALSHA', async () => {
    expect(await client.script('EXISTS', INCR_BY.sha)).toEqual([0]);
    expect(await runScript(client, INCR_BY, [key], [2])).toBe(2);
    // EVAL loaded it: the next call goes by its SHA.
    expect(await client.script('EXISTS', INCR_BY.sha)).toEqual([1]);
    expect(await runScript(client, INCR_BY, [key], [3])).toBe(5);
  });

  it('hashes the source once: the SHA1 Redis computes', async () => {
    const sha = await client.script('LOAD', INCR_BY.source);
    expect(INCR_BY.sha).toBe(sha);
  });

  it('passes other errors through', async () => {
    const BROKEN = luaScript(`return redis.call('NOSUCHCOMMAND-${randomUUID()}')`);
    await expect(runScript(client, BROKEN, [], [])).rejects.toThrow(
      /Unknown Redis command|unknown command/i,
    );
  });
});
