// The two algorithms on one key's in-memory state. Pure arithmetic on numbers the caller keeps:
// the memory store holds the cells, the Redis scripts repeat the same steps in Lua.
import { Decision } from './decision.js';

/** Rounding slack in units of cost: usage is a float that drains by elapsed × rate. */
export const EPSILON = 1e-9;

/**
 * @internal GCRA state of one key: `usage` units at time `last`, draining at `limit / windowMs`
 * per millisecond (the theoretical arrival time is `last + usage × windowMs / limit`). `until` is
 * when the usage is back to zero, for eviction.
 */
export class GcraCell {
  constructor(
    public usage: number,
    public last: number,
    public until: number,
  ) {}
}

/**
 * @internal One GCRA decision at `now` on `cell` (a fresh cell, usage 0, for a key without one).
 * Admits when the drained usage plus `cost` fits in `limit`, and then writes the new usage into
 * the cell; a refused call changes nothing.
 */
export function gcra(
  cell: GcraCell,
  now: number,
  limit: number,
  windowMs: number,
  cost: number,
): Decision {
  let usage = cell.usage;
  const elapsed = now - cell.last;
  if (elapsed > 0 && usage > 0) {
    usage -= (elapsed * limit) / windowMs;
    if (usage < EPSILON) usage = 0;
  }
  const perUnit = windowMs / limit;
  if (cost <= limit && usage + cost <= limit + EPSILON) {
    usage += cost;
    const resetMs = Math.ceil(usage * perUnit);
    // A clock that went back must not move the last update back with it.
    if (elapsed > 0) cell.last = now;
    cell.usage = usage;
    cell.until = cell.last + resetMs;
    return new Decision(true, limit, remainingOf(limit, usage), resetMs, 0, windowMs);
  }
  // EPSILON off the excess: float noise must not round the wait up past the moment the call fits.
  const retryAfterMs =
    cost > limit
      ? Math.ceil(windowMs)
      : Math.max(1, Math.ceil((usage + cost - limit - EPSILON) * perUnit));
  return new Decision(
    false,
    limit,
    remainingOf(limit, usage),
    Math.ceil(usage * perUnit),
    retryAfterMs,
    windowMs,
  );
}

/**
 * @internal Sliding-window log of one key: the admitted calls, oldest first, as parallel arrays
 * of times and costs read from `head`; `sum` is their total cost. `until` is when the newest
 * leaves the window, for eviction.
 */
export class LogCell {
  times: number[] = [];
  costs: number[] = [];
  head = 0;
  sum = 0;
  until = 0;
}

/**
 * @internal One sliding-window decision at `now`: drops the entries at or before `now - windowMs`,
 * admits when their total plus `cost` fits in `limit` and appends the call. The retry time of a
 * refused call is when enough of the oldest entries leave the window.
 */
export function slidingWindow(
  cell: LogCell,
  now: number,
  limit: number,
  windowMs: number,
  cost: number,
): Decision {
  const { times, costs } = cell;
  const horizon = now - windowMs;
  let head = cell.head;
  while (head < times.length && times[head]! <= horizon) {
    cell.sum -= costs[head]!;
    head += 1;
  }
  if (head === times.length) {
    times.length = 0;
    costs.length = 0;
    head = 0;
    cell.sum = 0;
  } else if (head > 64 && head * 2 > times.length) {
    times.splice(0, head);
    costs.splice(0, head);
    head = 0;
  }
  cell.head = head;
  if (cost <= limit && cell.sum + cost <= limit) {
    // A clock that went back must not put an entry before a newer one.
    const at = times.length > 0 && times[times.length - 1]! > now ? times[times.length - 1]! : now;
    times.push(at);
    costs.push(cost);
    cell.sum += cost;
    cell.until = at + windowMs;
    return new Decision(true, limit, limit - cell.sum, Math.ceil(at - now + windowMs), 0, windowMs);
  }
  let retryAfterMs = Math.ceil(windowMs);
  if (cost <= limit) {
    const need = cell.sum + cost - limit;
    let freed = 0;
    for (let i = head; i < times.length; i++) {
      freed += costs[i]!;
      if (freed >= need) {
        retryAfterMs = Math.max(1, Math.ceil(times[i]! + windowMs - now));
        break;
      }
    }
  }
  const resetMs = times.length > head ? Math.ceil(times[times.length - 1]! + windowMs - now) : 0;
  return new Decision(false, limit, Math.max(0, limit - cell.sum), resetMs, retryAfterMs, windowMs);
}

function remainingOf(limit: number, usage: number): number {
  const left = Math.floor(limit - usage + EPSILON);
  return Math.max(left, 0);
}
