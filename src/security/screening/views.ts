// Long repetitive fields (`''''...`, `%25%25...`, `<a<a<a...`) are the cheapest way to make a
// screener work hard: every position looks like the start of a match. A field that repeats with a
// short period holds no window the period does not already hold, so it is read through two short
// views: its first periods, and what follows the repetition. No built-in pattern matches more than
// MAX_MATCH characters, so no match is lost.

/** The longest text a built-in pattern can match (all their repetitions are bounded). */
export const MAX_MATCH = 256;
/** Fields shorter than this are read whole. */
export const MIN_VIEWED = 4 * MAX_MATCH;
/** Periods looked for. */
const MAX_PERIOD = 32;

// String equality of slices is a native memory comparison, much cheaper than startsWith here.

/** The smallest period with which `text` repeats around `at` (64 characters looked at), or 0. */
function periodAt(text: string, at: number): number {
  const probe = text.slice(at, at + 64);
  for (let p = 1; p <= MAX_PERIOD; p++) {
    if (text.slice(at + p, at + p + 64) === probe) return p;
  }
  return 0;
}

/** Whether text[from, to) repeats with period p. */
function repeats(text: string, p: number, from: number, to: number): boolean {
  return to - from <= p || text.slice(from, to - p) === text.slice(from + p, to);
}

/** The repetition of period `p` around `at`: [start, end) as large as it goes, by bisection. */
function region(text: string, p: number, at: number): [number, number] {
  let low = 0; // repeats(low, at + 64 + p) holds for `at`; find the smallest start
  let high = at;
  if (repeats(text, p, 0, at + 64 + p)) high = 0;
  while (high - low > 1) {
    const mid = (low + high) >>> 1;
    if (repeats(text, p, mid, at + 64 + p)) high = mid;
    else low = mid;
  }
  const start = high;
  let small = at + 64 + p;
  let big = text.length;
  if (repeats(text, p, start, big)) small = big;
  while (big - small > 1) {
    const mid = (small + big) >>> 1;
    if (repeats(text, p, start, mid)) small = mid;
    else big = mid;
  }
  return [start, small];
}

/**
 * Where a cut at `at` of percent-encoded text falls once moved back to the start of an escape
 * (`%XX`, `%uXXXX`) it would split.
 */
function escapeStart(text: string, at: number): number {
  for (let back = 1; back <= 5 && at - back >= 0; back++) {
    if (text.charCodeAt(at - back) !== 37) continue;
    const long = (text.charCodeAt(at - back + 1) | 0x20) === 117;
    if (back <= (long ? 5 : 2)) return at - back;
  }
  return at;
}

/**
 * The parts of `text` to read: the text itself, or, when a long stretch of it repeats with a
 * short period, the text up to one period and MAX_MATCH characters into the repetition and the
 * text from MAX_MATCH characters before its end (each read the same way in turn). Every window of
 * at most MAX_MATCH characters appears in one of them. With `encoded`, no cut splits a percent
 * escape, so that each part decodes as the whole would.
 */
export function viewsOf(text: string, encoded = false): string[] {
  if (text.length < MIN_VIEWED) return [text];
  const at = text.length >> 1;
  const p = periodAt(text, at);
  if (p === 0) return [text];
  const [start, end] = region(text, p, at);
  let headEnd = start + p + MAX_MATCH + (encoded ? 6 : 0);
  let tailStart = end - MAX_MATCH;
  if (encoded) {
    headEnd = escapeStart(text, headEnd);
    tailStart = escapeStart(text, tailStart);
  }
  if (tailStart <= headEnd) return [text];
  return [...viewsOf(text.slice(0, headEnd), encoded), ...viewsOf(text.slice(tailStart), encoded)];
}
