import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { MemoryAlertStore } from './memory-store.js';
import type { ResolvedAlertsOptions } from './options.js';
import { RedisAlertStore } from './redis-store.js';
import type { AlertStore } from './types.js';

/**
 * @internal The store the options ask for, and whether the module owns it (and so closes it): a
 * Redis store built here is closed by `close()` (its connection too when made from `redisUrl`),
 * a given store never is. Connection errors of a connection made here are logged once.
 */
export function openStore(
  options: ResolvedAlertsOptions,
  clock: Clock,
  log: Logger,
): { store: AlertStore; owned: boolean } {
  const spec = options.store;
  if (spec.kind === 'given') return { store: spec.store, owned: false };
  if (spec.kind === 'memory') return { store: new MemoryAlertStore({ clock }), owned: true };
  let warned = false;
  const store = new RedisAlertStore({
    ...(spec.client === undefined ? { url: spec.url! } : { client: spec.client }),
    prefix: spec.prefix,
    commandTimeoutMs: options.commandTimeoutMs,
    onError: (error) => {
      // ioredis reports every failed reconnection; the store guard says when it is back.
      if (!warned) log.warn({ err: error.message }, 'alert store: Redis connection error');
      warned = true;
    },
  });
  return { store, owned: true };
}
