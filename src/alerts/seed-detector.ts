import type { AlertHistoryPoint } from './history-reader.js';
import type { Detector, DetectorVerdict } from './types.js';

/**
 * @internal Stands for a series' detector while its rule's history is being read: keeps the live
 * readings in order and has no verdict yet. {@link SeedingDetector.replay} then feeds the real
 * detector the past readings that end before the first live one, and the live ones after them,
 * each once; the series then uses the real detector directly.
 */
export class SeedingDetector implements Detector {
  readonly inner: Detector;
  /** Live readings, `[at, value, at, value...]`, oldest first. */
  readonly #buffer: number[] = [];

  constructor(inner: Detector) {
    this.inner = inner;
  }

  observe(at: number, value: number): void {
    this.#buffer.push(at, value);
  }

  judge(): boolean | undefined {
    return undefined;
  }

  verdict(): DetectorVerdict | undefined {
    return undefined;
  }

  evaluate(): DetectorVerdict | undefined {
    return undefined;
  }

  /**
   * Feeds the real detector `past` (oldest first), up to the first live reading, then the live
   * readings; returns the real detector.
   */
  replay(past: readonly AlertHistoryPoint[] | undefined): Detector {
    const buffer = this.#buffer;
    const cutoff = buffer.length === 0 ? Number.POSITIVE_INFINITY : buffer[0]!;
    if (past !== undefined) feed(this.inner, past, cutoff);
    for (let i = 0; i < buffer.length; i += 2) this.inner.observe(buffer[i]!, buffer[i + 1]!);
    buffer.length = 0;
    return this.inner;
  }
}

/**
 * @internal Feeds `detector` the points of `past` that are finite, in increasing time, and end
 * before `cutoff`, the first live reading (a step that reaches it overlaps the live readings).
 */
export function feed(detector: Detector, past: readonly AlertHistoryPoint[], cutoff: number): void {
  let last = Number.NEGATIVE_INFINITY;
  for (const point of past) {
    const at = point?.at;
    const value = point?.value;
    if (typeof at !== 'number' || typeof value !== 'number') continue;
    if (!Number.isFinite(at) || !Number.isFinite(value) || at <= last || at >= cutoff) continue;
    last = at;
    detector.observe(at, value);
  }
}
