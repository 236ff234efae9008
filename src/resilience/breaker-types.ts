import type { Emitter } from '../core/events.js';

/**
 * `closed`: calls go through. `open`: calls are rejected at once. `half-open`: one trial call is
 * let through; its outcome closes the circuit or opens it again.
 *
 * @example
 * ```ts
 * const state: BreakerState = breaker.state;
 * if (state !== 'closed') console.warn(`${breaker.name} is ${state}`);
 * ```
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Why a circuit opened.
 *
 * @example
 * ```ts
 * breaker.on('open', ({ reason }: { reason: OpenReason }) => reason === 'manual' || page(reason));
 * ```
 */
export type OpenReason =
  /** `consecutiveFailures` calls failed in a row. */
  | 'consecutive-failures'
  /** The error rate over the window reached `errorRate.threshold`. */
  | 'error-rate'
  /** The half-open trial call failed or timed out. */
  | 'trial-failed'
  /** The half-open trial call (without `timeoutMs`) had not settled after `halfOpenAfterMs`. */
  | 'trial-hung'
  /** `open()` was called. */
  | 'manual'
  /** `isolate()` was called. */
  | 'isolated';

/**
 * Why a circuit closed.
 *
 * @example
 * ```ts
 * breaker.on('close', ({ reason }: { reason: CloseReason }) => log.info({ reason }, 'circuit closed'));
 * ```
 */
export type CloseReason =
  /** The half-open trial call succeeded. */
  | 'trial-succeeded'
  /** `close()` was called. */
  | 'manual'
  /** The last `isolate()` hold was released. */
  | 'released';

/**
 * The events of a breaker. Listeners run synchronously and never disturb the call: one that
 * throws is ignored.
 *
 * @example
 * ```ts
 * breaker.on('open', ({ breaker, reason, retryAt }) => log.warn({ breaker, reason, retryAt }, 'circuit open'));
 * breaker.on('rejected', ({ breaker }) => rejected.inc({ breaker }));
 * ```
 */
export interface BreakerEvents {
  /** The circuit opened (or re-opened after a failed trial). */
  open: [
    event: {
      breaker: string;
      reason: OpenReason;
      /** Consecutive failures counted when it opened. */
      failures: number;
      /** The window's error rate when it opened (`null` without an `errorRate` policy). */
      errorRate: number | null;
      /** When a trial call may go through (epoch ms; `null` while isolated). */
      retryAt: number | null;
    },
  ];
  /** The open period ended and a trial call is let through. */
  'half-open': [event: { breaker: string }];
  /** The circuit closed. */
  close: [event: { breaker: string; reason: CloseReason }];
  /** A call was rejected without being made. */
  rejected: [event: { breaker: string; state: 'open' | 'half-open' }];
  /** A call did not settle within `timeoutMs` (counted as a failure). */
  timeout: [event: { breaker: string; timeoutMs: number }];
  /** A call failed with an error that counts (see `isFailure`). */
  failure: [event: { breaker: string; error: unknown }];
  /** A call succeeded. */
  success: [event: { breaker: string }];
}

/**
 * How many calls ended which way since the breaker was made.
 *
 * @example
 * ```ts
 * const { success, failure, rejected } = breaker.snapshot().counts;
 * ```
 */
export interface BreakerCounts {
  /** Calls that resolved. */
  success: number;
  /** Calls that failed with an error that counts. */
  failure: number;
  /** Calls that timed out. */
  timeout: number;
  /** Calls rejected without being made (open, isolated, or half-open with its trial running). */
  rejected: number;
  /** Calls that failed with an error `isFailure` let through, or that their caller aborted. */
  ignored: number;
  /** Calls answered by the fallback. */
  fallback: number;
}

/**
 * One breaker as `/health`, Prometheus and the dashboard show it.
 *
 * @example
 * ```ts
 * for (const b of defaultBreakerRegistry().list()) console.log(b.name, b.state, b.counts.failure);
 * ```
 */
export interface BreakerSnapshot {
  name: string;
  state: BreakerState;
  /** Whether `isolate()` holds it open. */
  isolated: boolean;
  counts: BreakerCounts;
  /** Failures in a row counted now (closed state). */
  consecutiveFailures: number;
  /** The error-rate window now (`null` without an `errorRate` policy). */
  window: { calls: number; failures: number; errorRate: number | null } | null;
  /** The last change of state (`null` while it never left `closed`). */
  lastChange: { at: string; from: BreakerState; to: BreakerState; reason: string } | null;
  /** While open: when a trial call may go through (ISO time; `null` while closed or isolated). */
  retryAt: string | null;
}

/**
 * What a {@link BreakerRegistry} needs of a breaker.
 *
 * @example
 * ```ts
 * const listed: ListedBreaker = circuitBreaker('payments', { registry: false });
 * ```
 */
export interface ListedBreaker extends Pick<Emitter<BreakerEvents>, 'on' | 'off'> {
  readonly name: string;
  readonly state: BreakerState;
  snapshot(): BreakerSnapshot;
}
