import type { GroupInfo, GroupList, GroupSettings, QueueLimits } from '../../types.js';
import { Heap } from './heap.js';
import type { Slot } from './slot.js';

// Groups and rate limits of one queue in the memory task backend: the same rules as the Redis
// scripts (see ../redis/scripts/groups.ts), with a heap per group and a ring of the groups a claim
// may take from, ordered by pass (stride scheduling: each take adds 1 / weight), taken in rounds.

/** One group of a queue. */
export interface MemoryGroup {
  readonly name: string;
  /** Its ready tasks (lazy deletion: entries whose `gen` is stale are skipped). */
  readonly ready: Heap;
  waiting: number;
  active: number;
  paused: boolean;
  limitedUntil: number;
  /** Its weight and cap as configured; cap -1: the queue's default. */
  weight: number;
  cap: number;
  /** In the ring now, and the generation of its current ring entry. */
  inRing: boolean;
  ringGen: number;
  /** Starts in its current rate-limit window. */
  window: number;
  used: number;
}

interface RingEntry {
  group: MemoryGroup;
  gen: number;
  pass: number;
  seq: number;
}

/** The ungrouped tasks, taking turns as one more group while grouped work exists. */
export const UNGROUPED = '';

/** The groups of one queue, its limits and its ring. */
export class QueueGroups {
  readonly byName = new Map<string, MemoryGroup>();
  limits: QueueLimits = {};
  /** Pass of the last take: where a (re)joining group starts. */
  vt = 0;
  /** Until when the queue starts nothing (a handler reported the remote side's limit). */
  limitedUntil = 0;
  window = -1;
  used = 0;
  /** The counter of the limit this queue shares with others (one object for all of them). */
  shared: { window: number; used: number } | undefined;
  #ring: RingEntry[] = [];
  #seq = 0;
  #ringSize = 0;

  /** The group named `name`, created on first use. */
  group(name: string): MemoryGroup {
    let g = this.byName.get(name);
    if (g === undefined) {
      g = {
        name,
        ready: new Heap(),
        waiting: 0,
        active: 0,
        paused: false,
        limitedUntil: 0,
        weight: 1,
        cap: -1,
        inRing: false,
        ringGen: 0,
        window: -1,
        used: 0,
      };
      this.byName.set(name, g);
    }
    return g;
  }

  /** Whether a grouped task may be ready (anything in the ring). */
  get ringSize(): number {
    return this.#ringSize;
  }

  capOf(g: MemoryGroup): number {
    return g.cap >= 0 ? g.cap : (this.limits.groupMaxConcurrency ?? 0);
  }

  eligible(g: MemoryGroup, now: number): boolean {
    if (g.paused || g.limitedUntil > now) return false;
    const cap = this.capOf(g);
    return !(cap > 0 && g.active >= cap);
  }

  /** Puts `g` in the ring if it has work, may run, and is not there yet. */
  join(g: MemoryGroup, now: number): void {
    if (g.inRing || g.waiting <= 0 || !this.eligible(g, now)) return;
    this.#push(g, this.vt);
  }

  leaveRing(g: MemoryGroup): void {
    if (!g.inRing) return;
    g.inRing = false;
    g.ringGen += 1;
    this.#ringSize -= 1;
  }

  /** The ring's lowest pass (stale entries dropped), without taking it. */
  peek(): RingEntry | undefined {
    for (;;) {
      const top = this.#ring[0];
      if (top === undefined) return undefined;
      if (top.group.inRing && top.gen === top.group.ringGen) return top;
      this.#pop();
    }
  }

  /**
   * A claim's round: the `n` lowest passes leave the ring together; each visited group comes back
   * through {@link advance} (so none has a second turn in the same round, as in the Redis script).
   */
  popRound(n: number): RingEntry[] {
    const round: RingEntry[] = [];
    while (round.length < n) {
      const top = this.peek();
      if (top === undefined) break;
      this.#pop();
      this.leaveRing(top.group);
      round.push(top);
    }
    return round;
  }

  /** After a take from the entry's group: its next turn, `1 / weight` later (if it stays). */
  advance(entry: RingEntry, stays: boolean): void {
    this.vt = entry.pass;
    const g = entry.group;
    this.leaveRing(g);
    if (stays) this.#push(g, entry.pass + 1 / (g.weight > 0 ? g.weight : 1));
  }

  /** Groups whose wait ended join again. */
  wake(now: number): void {
    for (const g of this.byName.values()) {
      if (g.limitedUntil > 0 && g.limitedUntil <= now) {
        g.limitedUntil = 0;
        this.join(g, now);
      }
    }
  }

  /** The earliest time a waiting group may run again (Infinity: none waits). */
  nextWake(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const g of this.byName.values()) {
      if (g.limitedUntil > now && g.waiting > 0 && g.limitedUntil < next) next = g.limitedUntil;
    }
    return next;
  }

  configure(name: string, settings: GroupSettings, now: number): void {
    const g = this.group(name);
    g.weight = settings.weight ?? 1;
    g.cap = settings.maxConcurrency ?? -1;
    this.place(g, now);
  }

  /** Puts `g` in or out of the ring after a change of its settings. */
  place(g: MemoryGroup, now: number): void {
    if (this.eligible(g, now)) this.join(g, now);
    else this.leaveRing(g);
  }

  /** Drops a group nothing refers to any more (no work, not held, default settings). */
  forget(g: MemoryGroup): void {
    if (g.waiting > 0 || g.active > 0 || g.paused || g.limitedUntil > 0) return;
    if (g.weight !== 1 || g.cap !== -1 || g.name === UNGROUPED) return;
    this.leaveRing(g);
    this.byName.delete(g.name);
  }

  list(limit: number, now: number): GroupList {
    const all = [...this.byName.values()].filter(
      (g) =>
        g.name !== UNGROUPED && (g.waiting > 0 || g.active > 0 || g.paused || g.limitedUntil > now),
    );
    all.sort((x, y) => y.waiting - x.waiting || (x.name < y.name ? -1 : 1));
    const groups = all.slice(0, Math.max(0, limit)).map((g) => {
      const info: GroupInfo = {
        group: g.name,
        waiting: g.waiting,
        active: g.active,
        paused: g.paused,
        weight: g.weight,
        maxConcurrency: this.capOf(g),
      };
      if (g.limitedUntil > now) info.limitedUntil = g.limitedUntil;
      return info;
    });
    let waiting = 0;
    let active = 0;
    for (const g of all) {
      waiting += g.waiting;
      active += g.active;
    }
    return { total: all.length, waiting, active, limits: { ...this.limits }, groups };
  }

  #push(g: MemoryGroup, pass: number): void {
    g.inRing = true;
    g.ringGen += 1;
    this.#ringSize += 1;
    const entry: RingEntry = { group: g, gen: g.ringGen, pass, seq: ++this.#seq };
    const ring = this.#ring;
    ring.push(entry);
    let i = ring.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, ring[parent]!)) break;
      ring[i] = ring[parent]!;
      i = parent;
    }
    ring[i] = entry;
  }

  #pop(): void {
    const ring = this.#ring;
    const last = ring.pop();
    if (last === undefined || ring.length === 0) return;
    let i = 0;
    const n = ring.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(ring[right]!, ring[left]!) ? right : left;
      if (!before(ring[child]!, last)) break;
      ring[i] = ring[child]!;
      i = child;
    }
    ring[i] = last;
  }
}

const before = (x: RingEntry, y: RingEntry) =>
  x.pass < y.pass || (x.pass === y.pass && x.seq < y.seq);

/**
 * Room left in the current window of a limit for a counter (`holder`): how many more may start,
 * and when the window ends. Windows are aligned on the clock: `[w * per, (w + 1) * per)`.
 */
export function windowRoom(
  holder: { window: number; used: number },
  limit: number,
  perMs: number,
  now: number,
): { room: number; ends: number } {
  const w = Math.floor(now / perMs);
  if (holder.window !== w) {
    holder.window = w;
    holder.used = 0;
  }
  return { room: limit - holder.used, ends: (w + 1) * perMs };
}

/** A grouped slot's group state, if it has one. */
export function groupOf(groups: QueueGroups, slot: Slot): MemoryGroup | undefined {
  const name = slot.record.group;
  return name === undefined ? undefined : groups.group(name);
}
