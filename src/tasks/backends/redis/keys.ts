import { randomBytes } from 'node:crypto';
import { hashTag } from '../../../redis/keys.js';

/** The keys of one queue; built once per queue. */
export interface QueueKeys {
  /** `<prefix>:{<queue>}:`: every key of the queue starts with it (one Cluster slot). */
  base: string;
  ready: string;
  delayed: string;
  active: string;
  blocked: string;
  completed: string;
  dead: string;
  cancelled: string;
  paused: string;
  seq: string;
  marker: string;
  workers: string;
  workersExp: string;
}

/** The key names of a Redis task backend: each queue's keys, and request ids for the memos. */
export class BackendKeys {
  readonly #prefix: string;
  readonly #keys = new Map<string, QueueKeys>();
  /** Request ids: unique per call, so a re-sent call is recognised (see the scripts' memo). */
  readonly #ridPrefix = randomBytes(8).toString('hex');
  #ridSeq = 0;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** A fresh request id. */
  rid(): string {
    this.#ridSeq += 1;
    return this.#ridPrefix + this.#ridSeq.toString(36);
  }

  /** A fresh memo key for one call of a queue's script (same hash slot as the queue). */
  memo(k: QueueKeys): string {
    return k.base + 'req:' + this.rid();
  }

  /** The keys of `queue`. */
  queue(queue: string): QueueKeys {
    let keys = this.#keys.get(queue);
    if (keys === undefined) {
      const base = `${this.#prefix}:${hashTag(queue)}:`;
      keys = {
        base,
        ready: base + 'ready',
        delayed: base + 'delayed',
        active: base + 'active',
        blocked: base + 'blocked',
        completed: base + 'completed',
        dead: base + 'dead',
        cancelled: base + 'cancelled',
        paused: base + 'paused',
        seq: base + 'seq',
        marker: base + 'marker',
        workers: base + 'workers',
        workersExp: base + 'workers:exp',
      };
      if (this.#keys.size >= 10_000) this.#keys.clear();
      this.#keys.set(queue, keys);
    }
    return keys;
  }
}
