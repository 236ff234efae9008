import type { Clock } from '../../core/clock.js';
import { nonEmptyString } from '../logins/checks.js';
import type { ThreatEvent } from '../types.js';
import {
  type ClientRiskOptions,
  type ResolvedRiskOptions,
  resolveRiskOptions,
} from './risk-options.js';

/** Fields of a client's slot, each a Float64 in one shared array. */
const THREATS = 0;
const LOGINS = 1;
const RATE = 2;
const RESPONSES = 3;
const ERRORS = 4;
const AT = 5;
const STRIDE = 6;
/** One source of points never holds more than this, so a heavy offender's score comes down in hours. */
const MAX_POINTS = 400;
/** Threat categories the weights do not know weigh this much. */
const UNKNOWN_CATEGORY = 10;

/**
 * One client's risk, from {@link ClientRisk.top} or {@link ClientRisk.explain}: the score and
 * the decayed points of each source.
 *
 * @example
 * ```ts
 * for (const { client, score, threats } of risk.top(10)) console.log(client, score, threats);
 * ```
 */
export interface ClientRiskEntry {
  client: string;
  /** 0 to 100. */
  score: number;
  /** Points from threats, failed logins and rate-limit refusals, decayed to now. */
  threats: number;
  logins: number;
  rateLimited: number;
  /** Points from the share of error responses. */
  errors: number;
  /** Share of the client's (decayed) responses that were errors; 0 without responses. */
  errorRatio: number;
  /** Epoch milliseconds of the last signal. */
  updatedAt: number;
}

/** Which signal weighs most in a client's score: the `source` of an automatic ban. */
export type RiskSource = 'threats' | 'logins' | 'rate-limit';

/**
 * A risk score per client, 0 to 100, from the threats held against it (weighted by category and
 * confidence), its failed logins, its rate-limit refusals and its share of error responses. Points
 * decay exponentially: they halve every `halfLife` without new signals. Memory is bounded: at most
 * `maxClients`, stored in flat arrays; when full, the clients whose risk decayed away go first,
 * then the lowest risks.
 *
 * @example
 * ```ts
 * const risk = new ClientRisk({ halfLife: '1h' });
 * screening.on('threat', (threat) => risk.recordThreat(threat));
 * risk.recordLoginFailure('203.0.113.7');
 * risk.score('203.0.113.7'); // 4
 * risk.top(5);
 * ```
 */
export class ClientRisk {
  readonly #options: ResolvedRiskOptions;
  readonly #clock: Clock;
  readonly #index = new Map<string, number>();
  #keys: (string | undefined)[] = [];
  #data: Float64Array;
  #free: number[] = [];
  #used = 0;

  constructor(options: ClientRiskOptions = {}) {
    this.#options = resolveRiskOptions(options);
    this.#clock = this.#options.clock;
    this.#data = new Float64Array(Math.min(1_024, this.#options.maxClients) * STRIDE);
  }

  /** Clients tracked now. */
  get size(): number {
    return this.#index.size;
  }

  /** The most clients tracked at once. */
  get maxClients(): number {
    return this.#options.maxClients;
  }

  /**
   * Adds a threat's points (its category's weight times its confidence) to its client; returns the
   * client's new score. A threat of the whole deployment (client `'*'`) is held against no one: 0.
   */
  recordThreat(event: ThreatEvent): number {
    if (event.client === '*' || event.client === '' || typeof event.client !== 'string') return 0;
    const weight = this.#options.weights.threats[event.category] ?? UNKNOWN_CATEGORY;
    const confidence = Math.min(1, Math.max(0, Number(event.confidence) || 0));
    return this.#add(event.client, THREATS, weight * confidence);
  }

  /** Adds `count` failed logins to `client`; returns its new score. */
  recordLoginFailure(client: string, count = 1): number {
    return this.#add(client, LOGINS, this.#options.weights.loginFailure * count);
  }

  /** Adds `count` rate-limit refusals to `client`; returns its new score. */
  recordRateLimited(client: string, count = 1): number {
    return this.#add(client, RATE, this.#options.weights.rateLimited * count);
  }

  /**
   * Counts a response to `client`: an HTTP status of 400 and above is an error (429 is not: it
   * is counted by `recordRateLimited`), or say so with a boolean. Returns its new score.
   */
  recordResponse(client: string, outcome: number | boolean): number {
    const error = typeof outcome === 'boolean' ? outcome : outcome >= 400 && outcome !== 429;
    const slot = this.#touch(nonEmptyString(client, 'client'));
    this.#data[slot * STRIDE + RESPONSES]! += 1;
    if (error) this.#data[slot * STRIDE + ERRORS]! += 1;
    return this.#score(slot);
  }

  /** The score of `client`, 0 to 100; 0 for a client not tracked. */
  score(client: string): number {
    const slot = this.#index.get(client);
    return slot === undefined ? 0 : this.#score(slot, this.#clock.epochNow());
  }

  /** The score of `client` and its parts; undefined for a client not tracked. */
  explain(client: string): ClientRiskEntry | undefined {
    const slot = this.#index.get(client);
    return slot === undefined ? undefined : this.#entry(slot, this.#clock.epochNow());
  }

  /** The signal that weighs most in `client`'s score now. */
  dominantSource(client: string): RiskSource {
    const entry = this.explain(client);
    if (entry === undefined) return 'threats';
    const parts: [RiskSource, number][] = [
      ['threats', entry.threats + entry.errors],
      ['logins', entry.logins],
      ['rate-limit', entry.rateLimited],
    ];
    return parts.reduce((best, part) => (part[1] > best[1] ? part : best))[0];
  }

  /** The `n` clients of highest risk, highest first. */
  top(n = 10): ClientRiskEntry[] {
    const now = this.#clock.epochNow();
    const best: { slot: number; score: number }[] = [];
    if (n <= 0) return [];
    for (const slot of this.#index.values()) {
      const score = this.#score(slot, now);
      if (best.length === n && score <= best[n - 1]!.score) continue;
      let at = best.length;
      while (at > 0 && best[at - 1]!.score < score) at--;
      best.splice(at, 0, { slot, score });
      if (best.length > n) best.pop();
    }
    return best.map(({ slot }) => this.#entry(slot, now));
  }

  /** How many clients are tracked, and how many score at least `threshold`. */
  summary(threshold: number): { clients: number; above: number } {
    const now = this.#clock.epochNow();
    let above = 0;
    for (const slot of this.#index.values()) if (this.#score(slot, now) >= threshold) above++;
    return { clients: this.#index.size, above };
  }

  /** Forgets the clients whose score decayed below `forgetBelow`; returns how many. */
  prune(): number {
    const now = this.#clock.epochNow();
    let removed = 0;
    for (const [client, slot] of this.#index) {
      if (this.#score(slot, now) < this.#options.forgetBelow) {
        this.#remove(client, slot);
        removed++;
      }
    }
    return removed;
  }

  /** Forgets `client`. */
  forget(client: string): boolean {
    const slot = this.#index.get(client);
    if (slot === undefined) return false;
    this.#remove(client, slot);
    return true;
  }

  /** Forgets every client. */
  clear(): void {
    this.#index.clear();
    this.#keys = [];
    this.#free = [];
    this.#used = 0;
    this.#data = new Float64Array(Math.min(1_024, this.#options.maxClients) * STRIDE);
  }

  #add(client: string, field: number, points: number): number {
    const slot = this.#touch(nonEmptyString(client, 'client'));
    const offset = slot * STRIDE + field;
    this.#data[offset] = Math.min(MAX_POINTS, this.#data[offset]! + Math.max(0, points));
    return this.#score(slot);
  }

  /** The slot of `client`, made when absent, with its points decayed to now. */
  #touch(client: string): number {
    const now = this.#clock.epochNow();
    let slot = this.#index.get(client);
    if (slot === undefined) {
      if (this.#index.size >= this.#options.maxClients) this.#evict(now);
      slot = this.#allocate();
      this.#index.set(client, slot);
      this.#keys[slot] = client;
      this.#data.fill(0, slot * STRIDE, slot * STRIDE + STRIDE);
      this.#data[slot * STRIDE + AT] = now;
      return slot;
    }
    const base = slot * STRIDE;
    const elapsed = now - this.#data[base + AT]!;
    if (elapsed > 0) {
      const factor = 2 ** (-elapsed / this.#options.halfLifeMs);
      for (let field = THREATS; field <= ERRORS; field++) this.#data[base + field]! *= factor;
      this.#data[base + AT] = now;
    }
    return slot;
  }

  #score(slot: number, now?: number): number {
    const base = slot * STRIDE;
    const data = this.#data;
    const elapsed = now === undefined ? 0 : Math.max(0, now - data[base + AT]!);
    const factor = elapsed === 0 ? 1 : 2 ** (-elapsed / this.#options.halfLifeMs);
    const points = (data[base + THREATS]! + data[base + LOGINS]! + data[base + RATE]!) * factor;
    return Math.min(100, points + this.#errorPoints(base, factor));
  }

  #errorPoints(base: number, factor: number): number {
    const responses = this.#data[base + RESPONSES]!;
    if (responses === 0) return 0;
    const { errorRatio, minResponses } = this.#options.weights;
    const ratio = this.#data[base + ERRORS]! / responses;
    return errorRatio * ratio * Math.min(1, (responses * factor) / minResponses);
  }

  #entry(slot: number, now: number): ClientRiskEntry {
    const base = slot * STRIDE;
    const data = this.#data;
    const factor = 2 ** (-Math.max(0, now - data[base + AT]!) / this.#options.halfLifeMs);
    const responses = data[base + RESPONSES]!;
    return {
      client: this.#keys[slot]!,
      score: this.#score(slot, now),
      threats: data[base + THREATS]! * factor,
      logins: data[base + LOGINS]! * factor,
      rateLimited: data[base + RATE]! * factor,
      errors: this.#errorPoints(base, factor),
      errorRatio: responses === 0 ? 0 : data[base + ERRORS]! / responses,
      updatedAt: data[base + AT]!,
    };
  }

  #allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    const slot = this.#used++;
    if (slot * STRIDE >= this.#data.length) {
      const capacity = Math.min(this.#options.maxClients, (this.#data.length / STRIDE) * 2);
      const grown = new Float64Array(Math.max(capacity, slot + 1) * STRIDE);
      grown.set(this.#data);
      this.#data = grown;
    }
    return slot;
  }

  #remove(client: string, slot: number): void {
    this.#index.delete(client);
    this.#keys[slot] = undefined;
    this.#free.push(slot);
  }

  /**
   * Makes room for a tenth of the capacity: the clients whose risk decayed away first, then the
   * lowest scores (the least recently seen among equals).
   */
  #evict(now: number): void {
    const target = Math.max(1, Math.ceil(this.#options.maxClients / 10));
    const kept: { client: string; slot: number; score: number }[] = [];
    let removed = 0;
    for (const [client, slot] of this.#index) {
      const score = this.#score(slot, now);
      if (score < this.#options.forgetBelow) {
        this.#remove(client, slot);
        removed++;
      } else {
        kept.push({ client, slot, score });
      }
    }
    if (removed >= target) return;
    const data = this.#data;
    kept.sort(
      (a, b) => a.score - b.score || data[a.slot * STRIDE + AT]! - data[b.slot * STRIDE + AT]!,
    );
    for (let i = 0; i < target - removed && i < kept.length; i++) {
      this.#remove(kept[i]!.client, kept[i]!.slot);
    }
  }
}
