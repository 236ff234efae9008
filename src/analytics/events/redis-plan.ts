import { redisSegment } from '../../redis/keys.js';
import { dayOf } from './buckets.js';
import type { FoldedBatch } from './fold.js';
import type { AnalyticsBatch } from './types.js';

/** How long a batch id is remembered: a batch retried later than this would count twice. */
const MARKER_TTL_MS = 86_400_000;
/** How long a funnel run outlives its time limit, for events that arrive late. */
const FUNNEL_GRACE_MS = 3_600_000;

/**
 * @internal The key names of one store (prefix and hash tag).
 */
export class AnalyticsKeys {
  readonly tag: string;
  constructor(prefix: string) {
    // checkPrefix refuses braces, so the tag ends where it should.
    this.tag = `{${prefix}}`;
  }
  marker(id: string): string {
    return `${this.tag}:b:${redisSegment(id)}`;
  }
  hour(hour: number): string {
    return `${this.tag}:c:${hour}`;
  }
  day(day: number): string {
    return `${this.tag}:d:${day}`;
  }
  user(user: string): string {
    return `${this.tag}:u:${redisSegment(user)}`;
  }
  cohort(week: number): string {
    return `${this.tag}:r:${week}`;
  }
  funnelState(funnel: string, user: string): string {
    return `${this.tag}:fs:${redisSegment(funnel)}:${redisSegment(user)}`;
  }
  funnelDay(funnel: string, day: number, step: number): string {
    return `${this.tag}:fr:${redisSegment(funnel)}:${day}:${step}`;
  }
  scratch(id: string): string {
    return `${this.tag}:tmp:${id}`;
  }
}

/**
 * @internal The KEYS and the JSON argument of the RECORD script for a folded batch, or
 * `undefined` when nothing in it is kept. Keys are declared once each, numbered from 1 as Lua
 * does; the expiry of every aggregate follows from its bucket and the retention.
 */
export function recordPlan(
  keys: AnalyticsKeys,
  batch: AnalyticsBatch,
  folded: FoldedBatch,
): { keys: string[]; spec: string } | undefined {
  const { model } = batch;
  const retentionS = Math.ceil(model.retentionMs / 1_000);
  const names: string[] = [keys.marker(batch.id)];
  const index = new Map<string, number>();
  const declare = (name: string): number => {
    let at = index.get(name);
    if (at === undefined) {
      names.push(name);
      at = names.length;
      index.set(name, at);
    }
    return at;
  };
  const counts: (number | string)[][] = [];
  for (const [hour, byEvent] of folded.counts) {
    const entry: (number | string)[] = [declare(keys.hour(hour)), (hour + 1) * 3_600 + retentionS];
    for (const [event, n] of byEvent) entry.push(event, n);
    counts.push(entry);
  }
  if (counts.length === 0) return undefined;
  const users: (number | string)[][] = [];
  for (const [day, members] of folded.users) {
    users.push([declare(keys.day(day)), (day + 1) * 86_400 + retentionS, ...members]);
  }
  const spec: Record<string, unknown> = { m: String(MARKER_TTL_MS), c: counts, u: users, f: [] };
  if (folded.cohorts.length > 0) {
    let last = folded.firstCohortWeek;
    for (const activity of folded.cohorts) last = Math.max(last, activity.weeks.at(-1)!);
    const first = folded.firstCohortWeek;
    const base = names.length + 1;
    for (let week = first; week <= last; week++) declare(keys.cohort(week));
    const activity = folded.cohorts.map((a) => {
      const entry: number[] = [declare(keys.user(a.user))];
      for (let i = 0; i < a.weeks.length; i++) entry.push(a.weeks[i]!, a.flags[i]!);
      return entry;
    });
    spec.r = { w: model.cohorts.weeks, b: first, e: last, k: base, a: activity };
  }
  const funnels: unknown[] = [];
  model.funnels.forEach((funnel, f) => {
    const hits = folded.funnels[f]!;
    if (hits.length === 0) return;
    const steps = funnel.steps.length;
    let earliest = Number.POSITIVE_INFINITY;
    let latest = Number.NEGATIVE_INFINITY;
    for (const hit of hits) {
      earliest = Math.min(earliest, hit.at);
      latest = Math.max(latest, hit.at);
    }
    // A run reached in this batch started at most `withinMs` before the hit that reached it.
    const firstDay = Math.max(
      dayOf(model.now - model.retentionMs),
      dayOf(earliest - funnel.withinMs),
    );
    const lastDay = dayOf(latest);
    const base = names.length + 1;
    for (let day = firstDay; day <= lastDay; day++) {
      for (let step = 1; step <= steps; step++) declare(keys.funnelDay(funnel.name, day, step));
    }
    funnels.push({
      w: funnel.withinMs,
      n: steps,
      k: base,
      d: firstDay,
      e: lastDay,
      x: retentionS,
      px: String(Math.ceil(funnel.withinMs + FUNNEL_GRACE_MS)),
      h: hits.map((hit) => [
        declare(keys.funnelState(funnel.name, hit.user)),
        hit.user,
        hit.at,
        ...hit.steps,
      ]),
    });
  });
  spec.f = funnels;
  return { keys: names, spec: JSON.stringify(spec) };
}
