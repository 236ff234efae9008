import { type Clock, systemClock } from '../core/clock.js';
import { RecentList } from './recent-list.js';
import type { AlertStore, AlertTransition, Silence } from './types.js';

type Ack = { by: string; at: string; comment?: string };

/** Maps of claims and dedupe marks are not swept below this size. */
const SWEEP_FROM = 1_024;

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
  /** Sized by the `limit` of the latest record() call. */
  readonly #history = new RecentList<AlertTransition>(0);
  /** The size at which each map of claims or dedupe marks is next swept. */
  readonly #sweepAt = new Map<Map<string, number>, number>();

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
    const capacity = Math.max(0, limit);
    if (this.#history.capacity !== capacity) this.#history.resize(capacity);
    this.#history.add(copyTransition(transition));
  }

  async history(limit: number): Promise<readonly AlertTransition[]> {
    return this.#history.newest(limit).map((t) => structuredClone(t));
  }

  /**
   * Drops expired entries once the map has grown to twice what the last sweep left (and at
   * least {@link SWEEP_FROM}), so a long run does not keep every claim and a busy one does not
   * walk the whole map at every claim. Expired entries count as absent until then.
   */
  #sweep(map: Map<string, number>, now: number): void {
    if (map.size < (this.#sweepAt.get(map) ?? SWEEP_FROM)) return;
    for (const [key, until] of map) if (until <= now) map.delete(key);
    this.#sweepAt.set(map, Math.max(SWEEP_FROM, 2 * map.size));
  }
}

/**
 * A copy of a transition the caller cannot reach (the engine hands the same record to listeners):
 * its only nested field, the labels, holds strings, so copying it is cloning the whole record.
 */
function copyTransition(transition: AlertTransition): AlertTransition {
  const { labels } = transition;
  if (typeof labels !== 'object' || labels === null) return structuredClone(transition);
  return { ...transition, labels: { ...labels } };
}
