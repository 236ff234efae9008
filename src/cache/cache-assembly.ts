import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { Emitter } from '../core/events.js';
import { createDefaultLogger, type Logger, wrapLogger } from '../core/logger.js';
import type { RedisClient } from '../redis/client.js';
import { CacheCounters } from './cache-analytics.js';
import { positiveDuration } from './cache-checks.js';
import { CacheCodec } from './codec.js';
import { DecodeFailures } from './decode-failure.js';
import { defaultTiers } from './default-tiers.js';
import { Generations } from './generations.js';
import { GetOrSet } from './get-or-set.js';
import { Invalidation } from './invalidation.js';
import { checkNamespace } from './keys.js';
import type { CacheSettings } from './options.js';
import { TierLog } from './tier-log.js';
import { TierStack } from './tier-stack.js';
import type { CacheEvents, CacheTier, InvalidationBus } from './types.js';
import { Warmers } from './warmers.js';

const DEFAULT_NAMESPACE = 'default';

/** @internal What a cache closes on `close()`: what it was given as tiers, and what it opened. */
export interface OwnedResources {
  client?: RedisClient;
  tiers: CacheTier<any>[];
  bus?: InvalidationBus;
}

/** @internal The parts of one cache, wired together by {@link assembleCache}. */
export interface CacheParts {
  clock: Clock;
  namespace: string;
  codec: CacheCodec;
  decodeFailures: DecodeFailures;
  counters: CacheCounters;
  stack: TierStack;
  invalidation: Invalidation;
  loads: GetOrSet;
  warmers: Warmers;
  inflight: Map<string, Promise<unknown>>;
  owned: OwnedResources;
}

/**
 * @internal Builds a cache's parts from its settings: the tiers (given or default), the bus and
 * the lock (given, or offered by the `redis` option or a tier), and the engine pieces that share
 * them. `events` is the cache, which reports what the pieces see.
 */
export function assembleCache(settings: CacheSettings, events: Emitter<CacheEvents>): CacheParts {
  const clock = settings.clock ?? systemClock;
  const log: Logger =
    settings.logger === undefined
      ? createDefaultLogger('info').child({ module: 'cache' })
      : wrapLogger(settings.logger).child({ module: 'cache' });
  const tierLog = new TierLog(log);
  const defaultTtlMs = positiveDuration(settings.defaultTtl ?? 3600, 'defaultTtl');
  const defaultGraceMs = parseDuration(settings.grace ?? 0, 'grace');
  const failSafeThrottleMs = parseDuration(settings.failSafeThrottle ?? 10, 'failSafeThrottle');
  const remoteTimeoutMs = settings.remote?.timeoutMs ?? 500;
  const namespace = checkNamespace(settings.namespace ?? DEFAULT_NAMESPACE);
  const codec =
    settings.codec instanceof CacheCodec ? settings.codec : new CacheCodec(settings.codec);
  const decodeFailures = new DecodeFailures(log);
  const owned: OwnedResources = { tiers: [] };

  const setup = defaultTiers(settings, (error) => tierLog.report('redis', 'connection', error));
  if (setup.client !== undefined) owned.client = setup.client;
  const tiers = setup.tiers;
  if (!Array.isArray(tiers) || tiers.length === 0) {
    throw new InvalidArgumentError('tiers must be a non-empty list of cache tiers', {
      argument: 'tiers',
      value: tiers,
      expected: 'at least one CacheTier',
    });
  }
  const counters = new CacheCounters();
  const generations = new Generations();
  const stack = new TierStack(tiers, {
    events,
    log,
    tierLog,
    clock,
    codec,
    counters,
    generations,
    decodeFailures,
    remote: settings.remote,
    defaultTtlMs,
    defaultGraceMs,
  });
  // A tier given to a cache belongs to it, as the stores given to BentoCache or cache-manager
  // do: `close()` closes it. A tier closes only what it opened itself, so clients and pools the
  // application passed to the tiers stay open.
  owned.tiers = [...tiers];

  // Unless given, the bus and the lock come from the `redis` option, else from the first tier
  // that offers them (the Redis tier does, on its own connection and prefix).
  const busSource =
    setup.coordination ?? tiers.find((tier) => typeof tier.invalidationBus === 'function');
  const lockSource =
    setup.coordination ?? tiers.find((tier) => typeof tier.distributedLock === 'function');
  let bus: InvalidationBus | undefined;
  if (settings.bus !== undefined) {
    bus = settings.bus === false ? undefined : settings.bus;
  } else if (busSource?.invalidationBus !== undefined && stack.localLevel !== undefined) {
    // Without a local tier there is nothing another instance's change could leave stale here.
    bus = busSource.invalidationBus({
      onReconnect: () => invalidation.dropLocal('bus reconnected: messages may have been missed'),
      onError: (error: Error) => tierLog.report('bus', 'message', error),
    });
    owned.bus = bus;
  }
  const inflight = new Map<string, Promise<unknown>>();
  const origin = randomUUID();
  const invalidation = new Invalidation({
    stack,
    generations,
    counters,
    inflight,
    bus,
    origin,
    log,
    tierLog,
  });
  const loads = new GetOrSet({
    stack,
    counters,
    generations,
    invalidation,
    inflight,
    events,
    log,
    tierLog,
    clock,
    lock: settings.lock ?? lockSource?.distributedLock?.(),
    failSafeThrottleMs,
    remoteTimeoutMs,
  });
  const warmers = new Warmers(events, log);
  return {
    clock,
    namespace,
    codec,
    decodeFailures,
    counters,
    stack,
    invalidation,
    loads,
    warmers,
    inflight,
    owned,
  };
}
