import type { Duration } from '../core/duration.js';
import { parseDuration } from '../core/duration.js';
import { describeValue } from '../core/errors.js';
import { AlertSilenceError } from './errors.js';
import { compileMatchers, type LabelPredicate } from './matchers.js';
import type { AlertLabels, LabelMatcher, Silence } from './types.js';

/**
 * What `alerts.silence()` takes: matchers, and when the silence ends (`endsAt`, or `duration` from
 * its start). It starts now unless `startsAt` says otherwise.
 *
 * @example
 * ```ts
 * await alerts.silence({
 *   matchers: [{ name: 'service', value: 'billing' }, { name: 'alertname', op: '=~', value: 'High.*' }],
 *   duration: '2h',
 *   createdBy: 'alice',
 *   comment: 'billing migration',
 * });
 * ```
 */
export interface SilenceInput {
  matchers: LabelMatcher[];
  /** A `Date`, an ISO 8601 string or epoch milliseconds. Default: now. */
  startsAt?: Date | string | number;
  /** A `Date`, an ISO 8601 string or epoch milliseconds. Give this or `duration`. */
  endsAt?: Date | string | number;
  /** How long from `startsAt`; give this or `endsAt`. */
  duration?: Duration;
  createdBy: string;
  comment?: string;
}

/** Whether a silence mutes alerts now, will later, or no longer does. */
export type SilenceStatus = 'pending' | 'active' | 'expired';

/**
 * @internal Validates `input` and builds the silence. Every problem is an
 * {@link AlertSilenceError} whose `field` says what: `matchers` (none), `matchers[i].value` (a
 * regular expression that does not compile), `startsAt`, `endsAt` (not a time, or not after the
 * start), `duration`, `createdBy`.
 */
export function buildSilence(input: SilenceInput, now: number, id: string): Silence {
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new AlertSilenceError(
      `silence: ${field}=${describeValue(value)} is invalid: ${expected}`,
      {
        field,
        value,
      },
    );
  };
  if (input === null || typeof input !== 'object')
    return fail('silence', input, 'expected an object');
  if (!Array.isArray(input.matchers) || input.matchers.length === 0) {
    fail('matchers', input.matchers, 'expected at least one label matcher');
  }
  const compiled = compileMatchers(input.matchers, 'matchers');
  if (!('match' in compiled)) fail(compiled.field, compiled.value, compiled.problem);
  const startsAt = input.startsAt === undefined ? now : toEpoch(input.startsAt);
  if (startsAt === undefined)
    fail('startsAt', input.startsAt, 'expected a Date, an ISO 8601 time or epoch ms');
  let endsAt: number | undefined;
  if (input.endsAt !== undefined && input.duration !== undefined) {
    fail('endsAt', input.endsAt, 'give endsAt or duration, not both');
  }
  if (input.duration !== undefined) {
    try {
      endsAt = startsAt! + parseDuration(input.duration, 'duration');
    } catch {
      fail('duration', input.duration, "expected a duration such as '30m', '2h'");
    }
  } else if (input.endsAt !== undefined) {
    endsAt = toEpoch(input.endsAt);
    if (endsAt === undefined)
      fail('endsAt', input.endsAt, 'expected a Date, an ISO 8601 time or epoch ms');
  } else {
    fail('endsAt', undefined, 'give endsAt or duration');
  }
  if (endsAt! <= startsAt!)
    fail('endsAt', input.endsAt ?? input.duration, 'expected a time after startsAt');
  if (endsAt! <= now)
    fail('endsAt', input.endsAt ?? input.duration, 'expected a time in the future');
  if (typeof input.createdBy !== 'string' || input.createdBy.trim() === '') {
    fail('createdBy', input.createdBy, 'expected who creates the silence');
  }
  if (input.comment !== undefined && typeof input.comment !== 'string') {
    fail('comment', input.comment, 'expected a string');
  }
  return {
    id,
    matchers: input.matchers.map((m) => ({ name: m.name, value: m.value, op: m.op ?? '=' })),
    startsAt: new Date(startsAt!).toISOString(),
    endsAt: new Date(endsAt!).toISOString(),
    createdBy: input.createdBy,
    comment: input.comment ?? '',
  };
}

/** Whether `silence` is pending, active or expired at `now` (epoch ms). */
export function silenceStatus(silence: Silence, now: number): SilenceStatus {
  if (now < Date.parse(silence.startsAt)) return 'pending';
  return now < Date.parse(silence.endsAt) ? 'active' : 'expired';
}

/**
 * @internal The silences of the deployment with their matchers compiled once: the list is
 * reloaded from the store at every evaluation, and a silence that did not change keeps its
 * compiled matchers.
 */
export class SilenceIndex {
  #compiled = new Map<
    string,
    { silence: Silence; match: LabelPredicate; start: number; end: number }
  >();

  /** Replaces the silences known; ones whose matchers do not compile (edited by hand) are skipped. */
  update(silences: readonly Silence[]): void {
    const next = new Map<
      string,
      { silence: Silence; match: LabelPredicate; start: number; end: number }
    >();
    for (const silence of silences) {
      const known = this.#compiled.get(silence.id);
      if (known !== undefined && sameSilence(known.silence, silence)) {
        next.set(silence.id, known);
        continue;
      }
      const compiled = compileMatchers(silence.matchers, 'matchers');
      if (!('match' in compiled)) continue;
      next.set(silence.id, {
        silence,
        match: compiled.match,
        start: Date.parse(silence.startsAt),
        end: Date.parse(silence.endsAt),
      });
    }
    this.#compiled = next;
  }

  /** Adds or replaces one silence (made on this instance, before the next reload). */
  put(silence: Silence): void {
    this.update([...this.list().filter((s) => s.id !== silence.id), silence]);
  }

  list(): Silence[] {
    return [...this.#compiled.values()].map((entry) => entry.silence);
  }

  get(id: string): Silence | undefined {
    return this.#compiled.get(id)?.silence;
  }

  /** Ids of the silences active at `now` whose matchers all match `labels`. */
  silencing(labels: AlertLabels, now: number): readonly string[] {
    // Asked for every active alert at every tick: no list is made for an alert none mutes.
    let ids: string[] | undefined;
    for (const [id, entry] of this.#compiled) {
      if (entry.start <= now && now < entry.end && entry.match(labels)) (ids ??= []).push(id);
    }
    return ids ?? NONE;
  }
}

const NONE: readonly string[] = Object.freeze([]);

function sameSilence(a: Silence, b: Silence): boolean {
  return (
    a.startsAt === b.startsAt &&
    a.endsAt === b.endsAt &&
    JSON.stringify(a.matchers) === JSON.stringify(b.matchers)
  );
}

function toEpoch(value: Date | string | number): number | undefined {
  const ms =
    value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
