import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CircuitOpenError,
  CircuitTimeoutError,
  circuitBreaker,
} from '../../src/resilience/index.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

describe.runIf(requires(redis))('a breaker around a real Redis', () => {
  let proxy: TcpProxy;
  let client: Redis;
  const key = `test:${randomUUID()}:breaker`;

  beforeAll(async () => {
    const url = new URL(REDIS_URL);
    proxy = await startTcpProxy(Number(url.port || 6379), url.hostname);
    client = new Redis(proxy.port, '127.0.0.1', {
      db: Number(url.pathname.slice(1) || 0),
      maxRetriesPerRequest: null,
      lazyConnect: true,
    });
    await client.connect();
    await client.set(key, 'value', 'EX', 60);
  });

  afterAll(async () => {
    proxy.resume();
    await client.del(key).catch(() => {});
    client.disconnect();
    await proxy.close();
  });

  it('opens on a stalled Redis, half-opens with exactly one trial under 100 concurrent callers, and closes', async () => {
    const breaker = circuitBreaker('redis', {
      registry: false,
      consecutiveFailures: 3,
      timeoutMs: 100,
      halfOpenAfterMs: 300,
    });
    const states: string[] = [];
    breaker.on('open', () => states.push('open'));
    breaker.on('half-open', () => states.push('half-open'));
    breaker.on('close', () => states.push('closed'));
    await expect(breaker.execute(() => client.get(key))).resolves.toBe('value');

    proxy.stall();
    for (let i = 0; i < 3; i++) {
      await expect(breaker.execute(() => client.get(key))).rejects.toBeInstanceOf(
        CircuitTimeoutError,
      );
    }
    expect(breaker.state).toBe('open');
    const skipped = vi.fn(() => client.get(key));
    await expect(breaker.execute(skipped)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(skipped).not.toHaveBeenCalled();

    proxy.resume();
    await sleep(350);
    const get = vi.fn(() => client.get(key));
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => breaker.execute(get)),
    );
    expect(get).toHaveBeenCalledTimes(1);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    expect(fulfilled).toEqual([{ status: 'fulfilled', value: 'value' }]);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        code: 'E_CIRCUIT_OPEN',
        state: 'half-open',
      });
    }
    expect(breaker.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
    await expect(breaker.execute(() => client.get(key))).resolves.toBe('value');
    breaker.dispose();
  });
});
