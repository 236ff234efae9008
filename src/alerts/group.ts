import type { ResolvedPolicy } from './escalation.js';
import { sha256Hex } from './fingerprint.js';
import { isoTime } from './iso-time.js';
import type { Alert, AlertLabels, NotificationKind } from './types.js';

/** @internal A notifiable firing alert of a group, with the shared start of its firing episode. */
export interface GroupMember {
  alert: Alert;
  /** Shared by every instance (from the store), so notification claims are named alike. */
  episode: number;
  acknowledged: boolean;
}

/** @internal What one escalation step of a group has been told. */
export interface StepLog {
  /** The channels of the step when it was first notified (later notifications keep them). */
  channels: readonly string[];
  lastAt: number;
  /** The last repeat slot handled; 0 is the first notification. */
  slot: number;
  /** The alerts the step's channels were told are firing, by fingerprint, with their episode. */
  notified: Map<string, number>;
}

/** @internal One group of one policy: alerts with the same values of the policy's `groupBy` labels. */
export interface GroupState {
  /** Hex hash of the policy and the group labels. */
  readonly id: string;
  /** `{alertname="HighLatency",service="api"}`, shown in notifications. */
  readonly key: string;
  readonly labels: AlertLabels;
  readonly policy: ResolvedPolicy;
  /** The shared start of the group's firing episode (epoch ms). */
  readonly episode: number;
  readonly steps: (StepLog | undefined)[];
  /** The latest view of each alert the group has notified, to report it resolved once gone. */
  readonly seen: Map<string, Alert>;
}

/** @internal A notification the group is due to send, once claimed. */
export interface PlannedNotification {
  step: number;
  kind: NotificationKind;
  alerts: Alert[];
  /** The same on every instance that plans this notification: the deployment sends it once. */
  claimKey: string;
  channels: readonly string[];
  /** Records the notification as sent, whether this instance or another one sent it. */
  commit(): void;
}

/** @internal The group an alert with `labels` falls in under `policy`. */
export function groupOf(
  policy: ResolvedPolicy,
  labels: AlertLabels,
): { id: string; key: string; labels: AlertLabels } {
  const names = policy.groupBy === 'all' ? Object.keys(labels).sort() : policy.groupBy;
  const groupLabels: Record<string, string> = {};
  for (const name of names) groupLabels[name] = labels[name] ?? '';
  const key = `{${names.map((n) => `${n}=${JSON.stringify(groupLabels[n])}`).join(',')}}`;
  return {
    id: sha256Hex(JSON.stringify([policy.name, key])).slice(0, 16),
    key,
    labels: groupLabels,
  };
}

/**
 * @internal What a group is due to send at `now`, step by step, as Alertmanager's route timers do:
 * the step's first notification once `max(groupWait, after)` has passed in the group's episode
 * (later steps only while an alert is unacknowledged); then, no sooner than `groupInterval` after
 * the step's previous notification, an update when alerts joined or resolved; and a repeat in each
 * `repeat` slot counted from the step's first notification that saw no other notification, while
 * an alert is unacknowledged.
 *
 * @param active - fingerprints of every alert in a firing episode, muted ones included: a muted
 *   alert is not reported resolved.
 * @param current - the current view of an alert, for reporting a resolved one.
 */
export function planGroup(
  group: GroupState,
  members: readonly GroupMember[],
  active: ReadonlySet<string>,
  current: (fingerprint: string) => Alert | undefined,
  now: number,
  allChannels: () => readonly string[],
): readonly PlannedNotification[] {
  const { policy } = group;
  let unacknowledged = 0;
  for (const m of members) {
    group.seen.set(m.alert.fingerprint, m.alert);
    if (!m.acknowledged) unacknowledged++;
  }
  // Most ticks a group has nothing to send: the lists are built only for a notification.
  let plans: PlannedNotification[] | undefined;
  let firing: Alert[] | undefined;
  const { steps } = policy;
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index]!;
    const due = group.episode + Math.max(policy.groupWaitMs, step.afterMs);
    const log = group.steps[index];
    if (log === undefined) {
      const reached = index === 0 ? members.length > 0 : unacknowledged > 0;
      if (now < due || !reached) continue;
      const channels = step.channels === 'all' ? [...allChannels()] : step.channels;
      (plans ??= []).push({
        step: index,
        kind: 'firing',
        alerts: (firing ??= members.map((m) => m.alert)),
        claimKey: claimKey(group, index, 'first'),
        channels,
        commit: () => {
          group.steps[index] = {
            channels,
            lastAt: now,
            slot: slotAt(policy, due, now),
            notified: new Map(members.map((m) => [m.alert.fingerprint, m.episode])),
          };
        },
      });
      continue;
    }
    if (now >= log.lastAt + policy.groupIntervalMs && changed(log, members, active)) {
      const joined = members.filter((m) => log.notified.get(m.alert.fingerprint) !== m.episode);
      const gone = [...log.notified].filter(([fingerprint]) => !active.has(fingerprint));
      const resolved = gone.map(([fingerprint]) =>
        resolvedView(group, current(fingerprint), fingerprint, now),
      );
      firing ??= members.map((m) => m.alert);
      (plans ??= []).push({
        step: index,
        kind: firing.length > 0 ? 'firing' : 'resolved',
        alerts: [...firing, ...resolved],
        claimKey: claimKey(
          group,
          index,
          'change',
          joined.map((m) => [m.alert.fingerprint, m.episode]).sort(),
          gone.sort(),
        ),
        channels: log.channels,
        commit: () => {
          for (const m of joined) log.notified.set(m.alert.fingerprint, m.episode);
          for (const [fingerprint] of gone) {
            log.notified.delete(fingerprint);
            if (!group.steps.some((l) => l?.notified.has(fingerprint)))
              group.seen.delete(fingerprint);
          }
          log.lastAt = now;
        },
      });
      continue;
    }
    const slot = slotAt(policy, due, now);
    if (policy.repeatMs <= 0 || slot <= log.slot || unacknowledged === 0) continue;
    if (log.lastAt >= due + slot * policy.repeatMs) {
      // An update went out in this slot already: it stands for the repeat.
      log.slot = slot;
      continue;
    }
    (plans ??= []).push({
      step: index,
      kind: 'repeat',
      alerts: (firing ??= members.map((m) => m.alert)),
      claimKey: claimKey(group, index, 'repeat', slot),
      channels: log.channels,
      commit: () => {
        log.slot = slot;
        log.lastAt = now;
      },
    });
  }
  return plans ?? NO_PLANS;
}

const NO_PLANS: readonly PlannedNotification[] = Object.freeze([]);

/** True when alerts joined the step's log (or started a new episode) or left it. */
function changed(
  log: StepLog,
  members: readonly GroupMember[],
  active: ReadonlySet<string>,
): boolean {
  for (const m of members) if (log.notified.get(m.alert.fingerprint) !== m.episode) return true;
  for (const fingerprint of log.notified.keys()) if (!active.has(fingerprint)) return true;
  return false;
}

/** The repeat slot `t` falls in, counted from the step's due time. */
function slotAt(policy: ResolvedPolicy, due: number, t: number): number {
  return policy.repeatMs > 0 ? Math.max(0, Math.floor((t - due) / policy.repeatMs)) : 0;
}

/** The same on every instance that plans this notification: the deployment sends it once. */
function claimKey(group: GroupState, step: number, ...parts: unknown[]): string {
  return sha256Hex(JSON.stringify([group.id, group.episode, step, ...parts])).slice(0, 32);
}

/** @internal True once nothing is firing in the group and every resolved alert was reported. */
export function groupDone(group: GroupState, members: readonly GroupMember[]): boolean {
  return (
    members.length === 0 && group.steps.every((log) => log === undefined || log.notified.size === 0)
  );
}

function resolvedView(
  group: GroupState,
  alert: Alert | undefined,
  fingerprint: string,
  now: number,
): Alert {
  const view = alert ?? group.seen.get(fingerprint);
  const at = isoTime(now);
  if (view === undefined) {
    // Unreachable in practice (seen keeps every notified alert); a minimal record beats a throw.
    return {
      fingerprint,
      rule: '',
      state: 'resolved',
      severity: 'warning',
      labels: {},
      annotations: {},
      value: null,
      lastEvaluatedAt: at,
      resolvedAt: at,
    };
  }
  return { ...view, state: 'resolved', resolvedAt: view.resolvedAt ?? at };
}

/**
 * @internal `[FIRING:2] HighLatency (GET /users, GET /orders)`: the kind, how many alerts, the
 * alert names, and what tells the alerts apart (their labels outside the group's).
 */
export function notificationTitle(
  kind: NotificationKind,
  alerts: readonly Alert[],
  groupLabels: AlertLabels,
): string {
  const firing = alerts.filter((a) => a.state !== 'resolved');
  const counted = kind === 'resolved' ? alerts.length : firing.length;
  const head = kind === 'repeat' ? 'FIRING' : kind.toUpperCase();
  const names = [...new Set(alerts.map((a) => a.rule))].join(', ');
  const details = [
    ...new Set(
      (kind === 'resolved' ? alerts : firing).map((a) =>
        Object.keys(a.labels)
          .filter((n) => n !== 'alertname' && !(n in groupLabels))
          .sort()
          .map((n) => a.labels[n])
          .join(' '),
      ),
    ),
  ].filter((d) => d !== '');
  const shown = details.length > 5 ? [...details.slice(0, 5), '…'] : details;
  return `[${head}:${counted}] ${names}${shown.length > 0 ? ` (${shown.join(', ')})` : ''}`;
}
