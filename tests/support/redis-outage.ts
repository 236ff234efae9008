// What the tests of a module whose Redis goes away share: a loopback proxy in front of the test
// Redis (stopped, restarted, stalled by the test), a wait for a condition, and the process's
// unhandled rejections, which must stay none.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll } from 'vitest';
import { REDIS_URL } from './requirements.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const target = new URL(REDIS_URL);

/**
 * A proxy to the test Redis; `port` (a closed proxy's) starts it again where clients reconnect.
 *
 * @example
 * ```ts
 * let proxy = await startRedisProxy();
 * await proxy.close(); // Redis is away
 * proxy = await startRedisProxy(proxy.port); // and back
 * ```
 */
export function startRedisProxy(port?: number): Promise<TcpProxy> {
  return startTcpProxy(Number(target.port || 6379), target.hostname, port);
}

/** Resolves once `check()` holds; throws naming `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * The unhandled rejections of the process while the enclosing `describe` runs (empty it with
 * `length = 0` where a test starts afresh).
 *
 * @example
 * ```ts
 * const unhandled = collectUnhandledRejections();
 * it('...', async () => { ...; expect(unhandled).toEqual([]); });
 * ```
 */
export function collectUnhandledRejections(): unknown[] {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  return unhandled;
}
