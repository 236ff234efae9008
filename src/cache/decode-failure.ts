import type { Logger } from '../core/logger.js';
import { CacheCodecError } from './errors.js';

/**
 * Codec reasons that no reader can get past, whatever its configuration: the integrity check
 * failed with a key the reader holds (AES-GCM tag or CRC-32), the frame is cut short, or the bytes
 * are not a codec entry at all. Every other reason (an unknown key id, encryption configured or
 * not, a newer format or flag, a value over this reader's size limit, an entry of an earlier
 * release) is this reader refusing an entry that others may read.
 */
const CORRUPT_REASONS: ReadonlySet<string> = new Set([
  'authentication-failed',
  'checksum-mismatch',
  'truncated',
  'not-an-entry',
]);

/** How often one reason is logged again while it keeps occurring. */
const RELOG_MS = 10 * 60_000;

/** One failed decode, as the engine reports it. */
export interface DecodeFailure {
  error: CacheCodecError;
  reason: string;
  /** True when no reader could decode the entry, so it may be deleted (if still unchanged). */
  corrupt: boolean;
}

/**
 * Classifies the decode failures of the engine's reads, counts them by reason and logs them
 * without flooding: a reader missing a key during a rotation fails on every read of every new
 * entry, so each reason is logged when it first occurs and then at most every ten minutes, with
 * the count in between.
 *
 * @internal
 * @example
 * ```ts
 * const failures = new DecodeFailures(log);
 * const { corrupt } = failures.record(error, { tier: 'redis', namespace, key });
 * ```
 */
export class DecodeFailures {
  readonly #log: Logger;
  readonly #counts = new Map<string, number>();
  readonly #logged = new Map<string, { at: number; count: number }>();

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Classifies, counts and (when due) logs one failure. */
  record(error: unknown, where: { tier: string; namespace: string; key: string }): DecodeFailure {
    const wrapped =
      error instanceof CacheCodecError
        ? error
        : new CacheCodecError(String(error), { reason: 'unknown' }, error);
    const reason = typeof wrapped.context.reason === 'string' ? wrapped.context.reason : 'unknown';
    const corrupt = CORRUPT_REASONS.has(reason);
    const count = (this.#counts.get(reason) ?? 0) + 1;
    this.#counts.set(reason, count);
    const now = Date.now();
    const last = this.#logged.get(reason);
    if (last === undefined || now - last.at >= RELOG_MS) {
      this.#logged.set(reason, { at: now, count });
      this.#log.warn(
        {
          err: wrapped,
          reason,
          ...where,
          ...(last === undefined ? {} : { sinceLastLog: count - last.count }),
        },
        corrupt
          ? 'cache entry is corrupt (no reader can decode it); treated as a miss and deleted if unchanged (this reason is logged at most every 10 minutes)'
          : 'cache entry refused by this reader (its configuration cannot decode it); treated as a miss and left for the readers that can (this reason is logged at most every 10 minutes)',
      );
    }
    return { error: wrapped, reason, corrupt };
  }

  /** Failures so far by reason. */
  byReason(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}
