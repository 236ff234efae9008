// Dynamic thresholds: the multiplier every rate limit is decided with, from the client's risk and
// the service's pressure. Changes are reported as events (a client moving between levels, the
// service entering or leaving pressure) and kept for the monitoring endpoint.
import { parseDuration } from '../core/duration.js';
import type { SystemMetricsSnapshot } from '../performance/types.js';
import type { ResolvedDynamic } from './options.js';

/**
 * One change of a limit multiplier: a client's (`scope: 'client'`) as its risk moved, or
 * everyone's (`scope: 'service'`) as the service came under pressure or out of it.
 *
 * @example
 * ```ts
 * security.on('limits', ({ scope, multiplier, reason }) => log.info({ scope, multiplier }, reason));
 * ```
 */
export interface LimitChange {
  scope: 'client' | 'service';
  /** The client key, for `scope: 'client'`. */
  client?: string;
  /** The multiplier now, 0 < m ≤ 1: a limit of 100 is decided as `floor(100 × m)`. */
  multiplier: number;
  previous: number;
  /** Why, for people: `risk 72`, `event loop p99 312 ms > 200 ms`, `back to normal`. */
  reason: string;
  /** Epoch milliseconds. */
  at: number;
}

/** Clients whose level is remembered for change events at most; beyond it, changes go unreported. */
const MAX_TRACKED = 10_000;
/** Levels a risky client moves between (a quarter of the way from 1 to the floor each). */
const LEVELS = 4;
/** The changes kept for the report. */
const RECENT = 50;

/** The multipliers of the limits now, and their recent changes (part of `Security`). */
export class DynamicLimits {
  readonly #options: ResolvedDynamic;
  readonly #relaxMs: number;
  readonly #levels = new Map<string, number>();
  readonly #recent: LimitChange[] = [];
  readonly #onChange: (change: LimitChange) => void;
  #service = 1;
  #serviceReason = 'normal';
  #calmSince: number | undefined;

  constructor(options: ResolvedDynamic, onChange: (change: LimitChange) => void) {
    this.#options = options;
    this.#relaxMs = options.pressure
      ? parseDuration(options.pressure.relaxAfter, 'dynamic.pressure.relaxAfter')
      : 0;
    this.#onChange = onChange;
  }

  /** The service's multiplier now (1 when not under pressure). */
  get service(): number {
    return this.#service;
  }

  /** Why the service's multiplier is what it is. */
  get serviceReason(): string {
    return this.#serviceReason;
  }

  /** Clients whose limits are tightened now. */
  get tightened(): number {
    return this.#levels.size;
  }

  /** The latest changes, newest last. */
  recent(): readonly LimitChange[] {
    return this.#recent;
  }

  /** The multiplier of `client`'s limits, given its risk; reports a change of its level. */
  multiplier(client: string, risk: number, at: number): number {
    const options = this.#options.risk;
    let clientMultiplier = 1;
    if (options !== undefined) {
      const share = Math.min(1, Math.max(0, (risk - options.from) / (options.to - options.from)));
      const level = Math.ceil(share * LEVELS - 1e-9);
      clientMultiplier = 1 - (level / LEVELS) * (1 - options.floor);
      const previous = this.#levels.get(client) ?? 0;
      if (level !== previous) {
        if (level === 0) this.#levels.delete(client);
        else if (previous !== 0 || this.#levels.size < MAX_TRACKED) this.#levels.set(client, level);
        if (previous !== 0 || this.#levels.has(client)) {
          this.#report({
            scope: 'client',
            client,
            multiplier: clientMultiplier,
            previous: 1 - (previous / LEVELS) * (1 - options.floor),
            reason:
              level > previous ? `risk ${Math.round(risk)}` : `risk down to ${Math.round(risk)}`,
            at,
          });
        }
      }
    }
    return clientMultiplier * this.#service;
  }

  /**
   * Reads the service's figures: under pressure when one is above its bound, relaxed once all
   * have stayed below them for `relaxAfter`.
   */
  assess(system: SystemMetricsSnapshot | null, errorRate: number | null, at: number): void {
    const options = this.#options.pressure;
    if (options === undefined) return;
    const reasons: string[] = [];
    const delay = system?.eventLoop.delayP99Ms;
    if (delay !== undefined && delay > options.eventLoopDelayMs) {
      reasons.push(`event loop p99 ${Math.round(delay)} ms > ${options.eventLoopDelayMs} ms`);
    }
    const cpu = system?.cpu.percent;
    if (cpu !== undefined && cpu > options.cpuPercent) {
      reasons.push(`CPU ${Math.round(cpu)}% > ${options.cpuPercent}%`);
    }
    if (errorRate !== null && errorRate > options.errorRate) {
      reasons.push(
        `5xx ${(errorRate * 100).toFixed(1)}% > ${(options.errorRate * 100).toFixed(1)}%`,
      );
    }
    if (reasons.length > 0) {
      this.#calmSince = undefined;
      const reason = reasons.join(', ');
      if (this.#service !== options.multiplier) {
        this.#setService(options.multiplier, reason, at);
      } else {
        this.#serviceReason = reason;
      }
      return;
    }
    if (this.#service === 1) return;
    this.#calmSince ??= at;
    if (at - this.#calmSince >= this.#relaxMs) this.#setService(1, 'back to normal', at);
  }

  #setService(multiplier: number, reason: string, at: number): void {
    const previous = this.#service;
    this.#service = multiplier;
    this.#serviceReason = multiplier === 1 ? 'normal' : reason;
    this.#calmSince = undefined;
    this.#report({ scope: 'service', multiplier, previous, reason, at });
  }

  #report(change: LimitChange): void {
    this.#recent.push(change);
    if (this.#recent.length > RECENT) this.#recent.shift();
    this.#onChange(change);
  }
}
