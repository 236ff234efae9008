// The finish script's call, built from a batch of outcomes and started leases, and its reply read
// back: one script per batch settles every outcome atomically (see scripts/finish.ts).
import type { AttemptOutcome, FinishResult, Lease, RetentionSpec } from '../../types.js';
import type { QueueKeys } from './keys.js';
import { errorJson } from './records.js';

/** What a finish call needs besides the batch. */
export interface FinishSettings {
  queue: string;
  channel: string;
  retention: RetentionSpec;
  memoKey: string;
  memoMs: number;
}

/** @internal The keys and arguments of one finish script call. */
export function finishCall(
  k: QueueKeys,
  settings: FinishSettings,
  outcomes: readonly AttemptOutcome[],
  started: readonly Lease[],
): { keys: string[]; args: (string | number)[] } {
  const r = settings.retention;
  const keys = [
    k.active,
    k.ready,
    k.delayed,
    k.completed,
    k.dead,
    k.blocked,
    k.marker,
    settings.memoKey,
  ];
  const args: (string | number)[] = [
    k.base,
    settings.channel,
    settings.queue,
    r.completed.count,
    r.completed.ageMs,
    r.dead.count,
    r.dead.ageMs,
    settings.memoMs,
    started.length,
    Date.now(),
  ];
  for (const lease of started) {
    keys.push(k.base + 't:' + lease.id);
    args.push(lease.id, lease.token);
  }
  for (const o of outcomes) {
    keys.push(k.base + 't:' + o.id);
    switch (o.kind) {
      case 'completed':
        if (o.result === undefined) args.push('n', o.id, o.token, '', o.finishedAt);
        else args.push('c', o.id, o.token, o.result, o.finishedAt);
        break;
      case 'retry':
        args.push('r', o.id, o.token, errorJson(o.error), o.runAt);
        break;
      case 'limited':
        args.push('l', o.id, o.token, Math.max(1, Math.ceil(o.retryAfterMs)), 0);
        break;
      default:
        args.push('d', o.id, o.token, errorJson(o.error), o.finishedAt);
    }
  }
  return { keys, args };
}

/**
 * @internal The results of a finish reply: per outcome, accepted (1 or 0), then the dependents it
 * released and those it killed, each as a count followed by the ids.
 */
export function finishResults(
  reply: readonly (number | string)[],
  outcomes: readonly AttemptOutcome[],
): FinishResult[] {
  const results: FinishResult[] = new Array(outcomes.length);
  let at = 0;
  for (let i = 0; i < outcomes.length; i++) {
    const result: FinishResult = { id: outcomes[i]!.id, accepted: Number(reply[at++]) === 1 };
    const releasedCount = Number(reply[at++]);
    if (releasedCount > 0) result.released = reply.slice(at, at + releasedCount).map(String);
    at += releasedCount;
    const killedCount = Number(reply[at++]);
    if (killedCount > 0) result.killed = reply.slice(at, at + killedCount).map(String);
    at += killedCount;
    results[i] = result;
  }
  return results;
}
