/**
 * @internal The tags the value of a load under way will carry, when known as it starts (the
 * `tags` option given as an array, or none): a tag invalidation only has to stop new callers from
 * joining the loads whose value may carry one of its tags. Keyed by the load's promise, so an
 * entry goes with its load.
 */
const known = new WeakMap<Promise<unknown>, readonly string[]>();
const NONE: readonly string[] = [];

/** Notes what `tags` (a load's `tags` option) says of the tags of `load`'s value. */
export function noteLoadTags(load: Promise<unknown>, tags: unknown): void {
  if (tags === undefined) known.set(load, NONE);
  else if (Array.isArray(tags) && tags.every((tag) => typeof tag === 'string')) {
    known.set(load, [...tags]);
  }
}

/** Whether the value of `load` may carry one of `tags` (true when its tags are not known). */
export function mayCarryTags(load: Promise<unknown>, tags: readonly string[]): boolean {
  const carried = known.get(load);
  if (carried === undefined) return true;
  for (const tag of carried) if (tags.includes(tag)) return true;
  return false;
}
