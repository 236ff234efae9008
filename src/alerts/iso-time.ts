/** Texts of the times formatted lately, by epoch milliseconds. */
const texts = new Map<number, string>();
/** Past this many, the cache starts over: a tick needs a few dozen at most. */
const KEPT = 256;

/**
 * @internal `new Date(ms).toISOString()`, formatted once for the many alerts, transitions and
 * deliveries of a tick that share a time (the evaluation time, the start of an episode).
 *
 * @example
 * ```ts
 * isoTime(0); // '1970-01-01T00:00:00.000Z'
 * ```
 */
export function isoTime(ms: number): string {
  let text = texts.get(ms);
  if (text === undefined) {
    if (texts.size >= KEPT) texts.clear();
    text = new Date(ms).toISOString();
    texts.set(ms, text);
  }
  return text;
}
