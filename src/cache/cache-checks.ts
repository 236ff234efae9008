import type { Clock } from '../core/clock.js';
import { type Duration, parseDuration } from '../core/duration.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { isSafeName } from './keys.js';
import type { EntryMeta } from './types.js';

/** @internal A duration option that must be above zero (a TTL), in milliseconds. */
export function positiveDuration(value: Duration, name: string): number {
  const ms = parseDuration(value, name);
  if (ms <= 0) {
    throw new InvalidArgumentError(
      `${name}=${describeValue(value)} is invalid: expected a positive duration`,
      {
        argument: name,
        value,
        expected: 'a positive duration',
      },
    );
  }
  return ms;
}

/** @internal The tags of a write or an invalidation, checked; none when `undefined`. */
export function checkTags(tags: unknown): readonly string[] {
  if (tags === undefined) return [];
  if (
    !Array.isArray(tags) ||
    tags.some((tag) => typeof tag !== 'string' || tag === '' || !isSafeName(tag))
  ) {
    throw new InvalidArgumentError(
      `tags=${describeValue(tags)} is invalid: expected a list of non-empty strings without control characters`,
      {
        argument: 'tags',
        value: tags,
        expected: 'a list of non-empty strings without control characters',
      },
    );
  }
  return tags as readonly string[];
}

/** @internal The error of an argument that should have been a list (or, for `name`, a string). */
export function notAList(argument: string, value: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`${argument}=${describeValue(value)} is invalid`, {
    argument,
    value,
    expected: argument === 'name' ? 'a non-empty string' : 'an array',
  });
}

/** @internal `meta` shortened to what a tier with a maximum TTL may keep. */
export function capped(meta: EntryMeta, maxTtlMs: number | undefined, clock: Clock): EntryMeta {
  if (maxTtlMs === undefined) return meta;
  const limit = clock.epochNow() + maxTtlMs;
  if (meta.staleUntil <= limit) return meta;
  return { ...meta, expiresAt: Math.min(meta.expiresAt, limit), staleUntil: limit };
}

/** @internal The promise's value, or `done: false` once `ms` pass first (the promise keeps running). */
export async function raceTimeout<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
