// Bursts of refused responses from one client: many 401s and 403s are password or token guessing,
// many 404s are path enumeration. Each client keeps the times of its last `threshold` refusals
// (a ring), so the count is exact over a sliding window and memory is bounded per client.
import { parseDuration } from '../../core/duration.js';
import { describeValue } from '../../core/errors.js';
import { SecurityConfigError } from '../errors.js';
import type { ThreatEvent } from '../types.js';
import type { AuthBurstOptions } from './types.js';

/**
 * Counts refused responses per client and reports a burst once per window.
 *
 * @example
 * ```ts
 * const bursts = createAuthBurstTracker({ threshold: 10, window: '30s' });
 * const finding = bursts.recordResponse('203.0.113.7', 401);
 * if (finding) security.emit('threat', finding);
 * ```
 */
export interface AuthBurstTracker {
  /** Counts one response (other statuses are ignored); the finding when it completes a burst. */
  recordResponse(client: string, status: number, at?: number): ThreatEvent | undefined;
  /** Clients remembered. */
  readonly size: number;
  clear(): void;
}

type ClientState = {
  times: Float64Array;
  next: number;
  count: number;
  quietUntil: number;
  last: number;
};

function fail(field: string, value: unknown, expected: string): never {
  throw new SecurityConfigError(
    `${field}=${describeValue(value)} is invalid: expected ${expected}`,
    {
      field,
      value,
      expected,
    },
  );
}

/**
 * Creates an {@link AuthBurstTracker}. Throws {@link SecurityConfigError} naming `authBurst.<option>`
 * for an invalid option.
 *
 * @example
 * ```ts
 * const tracker = createAuthBurstTracker(); // 20 responses 401/403/404 within 10 s
 * ```
 */
export function createAuthBurstTracker(
  options: AuthBurstOptions = {},
  now: () => number = Date.now,
): AuthBurstTracker {
  const threshold = options.threshold ?? 20;
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > 10_000) {
    fail('authBurst.threshold', threshold, 'a whole number from 2 to 10,000');
  }
  let windowMs: number;
  try {
    windowMs = parseDuration(options.window ?? '10s', 'authBurst.window');
  } catch (error) {
    fail(
      'authBurst.window',
      options.window,
      `a duration such as '10s' (${(error as Error).message})`,
    );
  }
  if (!(windowMs > 0)) fail('authBurst.window', options.window, 'a duration above zero');
  const statuses = new Set(options.statuses ?? [401, 403, 404]);
  for (const status of statuses) {
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      fail('authBurst.statuses', options.statuses, 'HTTP status codes');
    }
  }
  const maxClients = options.maxClients ?? 10_000;
  if (!Number.isInteger(maxClients) || maxClients < 1) {
    fail('authBurst.maxClients', maxClients, 'a whole number of at least 1');
  }
  const confidence = options.confidence ?? 0.7;
  if (typeof confidence !== 'number' || !(confidence >= 0 && confidence <= 1)) {
    fail('authBurst.confidence', confidence, 'a number from 0 to 1');
  }
  const label = [...statuses].join('/');

  // Map order is insertion order: re-inserting on each hit keeps the least recent first.
  const clients = new Map<string, ClientState>();

  const forgetStale = (at: number) => {
    for (let i = 0; i < 2; i++) {
      const oldest = clients.entries().next();
      if (oldest.done || oldest.value[1].last > at - windowMs) return;
      clients.delete(oldest.value[0]);
    }
  };

  return {
    get size() {
      return clients.size;
    },
    clear() {
      clients.clear();
    },
    recordResponse(client, status, at = now()) {
      if (!statuses.has(status) || typeof client !== 'string') return undefined;
      let state = clients.get(client);
      if (state === undefined) {
        forgetStale(at);
        if (clients.size >= maxClients) clients.delete(clients.keys().next().value!);
        state = { times: new Float64Array(threshold), next: 0, count: 0, quietUntil: 0, last: at };
      } else {
        clients.delete(client);
      }
      clients.set(client, state);
      state.last = Math.max(state.last, at);
      state.times[state.next] = at;
      state.next = (state.next + 1) % threshold;
      if (state.count < threshold) state.count++;
      // The oldest of the last `threshold` refusals sits where the next one will be written.
      if (state.count < threshold || at < state.quietUntil) return undefined;
      const oldest = state.times[state.next]!;
      if (at - oldest > windowMs) return undefined;
      state.quietUntil = at + windowMs;
      return {
        category: 'auth-burst',
        confidence,
        rule: 'burst.refused-responses',
        client,
        location: 'responses',
        evidence: `${threshold} responses ${label} within ${Math.round(at - oldest)} ms`,
        blocked: false,
        at,
      };
    },
  };
}
