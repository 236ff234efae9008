import { type Clock, systemClock } from '../core/clock.js';
import type { AlertStore, AlertTransition, Silence } from './types.js';

type Ack = { by: string; at: string; comment?: string };

/**
 * The {@link AlertStore} of one process: maps and a ring of history. Expiry follows the given
 * clock's `epochNow()`, so tests that step a fake clock step claims and episodes too.
 *
 * @example
 * ```ts
 * const alerts = new Alerts({ store: new MemoryAlertStore() });
 * ```
 */
export class MemoryAlertStore implements AlertStore {
  readonly #clock: Clock;
  readonly #claims = new Map<string, number>();
  readonly #episodes = new Map<string, { at: number; expiresAt: number }>();
  readonly #acks = new Map<string, Ack>();
  readonly #silences = new Map<string, Silence>();
  readonly #dedupe = new Map<string, number>();
  #history: AlertTransition[] = [];

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = this.#clock.epochNow();
    this.#sweep(this.#claims, now);
    const until = this.#claims.get(key);
    if (until !== undefined && until > now) return false;
    this.#claims.set(key, now + ttlMs);
    return true;
  }

  async episode(key: string, at: number, ttlMs?: number): Promise<number> {
    const now = this.#clock.epochNow();
    const expiresAt = ttlMs === undefined ? Number.POSITIVE_INFINITY : now + ttlMs;
    const known = this.#episodes.get(key);
    if (known !== undefined && known.expiresAt > now) {
      known.expiresAt = expiresAt;
      return known.at;
    }
    this.#episodes.set(key, { at, expiresAt });
    return at;
  }

  async touchEpisodes(keys: readonly string[], ttlMs: number): Promise<void> {
    const now = this.#clock.epochNow();
    for (const key of keys) {
      const known = this.#episodes.get(key);
      if (known !== undefined && known.expiresAt > now) known.expiresAt = now + ttlMs;
    }
  }

  async endEpisode(key: string): Promise<void> {
    this.#episodes.delete(key);
  }

  async acknowledge(fingerprint: string, ack: Ack): Promise<void> {
    this.#acks.set(fingerprint, { ...ack });
  }

  async acknowledgements(): Promise<ReadonlyMap<string, Ack>> {
    return new Map([...this.#acks].map(([fingerprint, ack]) => [fingerprint, { ...ack }]));
  }

  async clearAcknowledgement(fingerprint: string): Promise<void> {
    this.#acks.delete(fingerprint);
  }

  async putSilence(silence: Silence): Promise<void> {
    this.#silences.set(silence.id, structuredClone(silence));
  }

  async deleteSilence(id: string): Promise<boolean> {
    return this.#silences.delete(id);
  }

  async silences(): Promise<readonly Silence[]> {
    return [...this.#silences.values()].map((s) => structuredClone(s));
  }

  async record(transition: AlertTransition, limit: number, dedupeMs?: number): Promise<void> {
    if (dedupeMs !== undefined && dedupeMs > 0) {
      const now = this.#clock.epochNow();
      this.#sweep(this.#dedupe, now);
      const key = `${transition.fingerprint}:${transition.from}:${transition.to}`;
      if ((this.#dedupe.get(key) ?? 0) > now) return;
      this.#dedupe.set(key, now + dedupeMs);
    }
    this.#history.unshift(structuredClone(transition));
    if (this.#history.length > limit) this.#history = this.#history.slice(0, Math.max(0, limit));
  }

  async history(limit: number): Promise<readonly AlertTransition[]> {
    return this.#history.slice(0, Math.max(0, limit)).map((t) => structuredClone(t));
  }

  /** Drops expired entries once the map has grown, so a long run does not keep every claim. */
  #sweep(map: Map<string, number>, now: number): void {
    if (map.size < 1_024) return;
    for (const [key, until] of map) if (until <= now) map.delete(key);
  }
}
