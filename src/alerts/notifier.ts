import { choosePolicy, type ResolvedPolicy } from './escalation.js';
import { sha256Hex } from './fingerprint.js';
import {
  type GroupMember,
  type GroupState,
  groupDone,
  groupOf,
  notificationTitle,
  type PlannedNotification,
  planGroup,
} from './group.js';
import type { StoreGuard } from './store-guard.js';
import type { Alert, AlertNotification, NotificationKind } from './types.js';

/** @internal What the notifier needs from the engine. */
export interface NotifierContext {
  guard: StoreGuard;
  policies: readonly ResolvedPolicy[];
  /** The channel names the default policy notifies (every channel, or the default one). */
  allChannels(): readonly string[];
  /** Hands a notification to the deliver hook; never awaited. */
  dispatch(channel: string, notification: AlertNotification): void;
  /** A notification another instance claimed. */
  deduplicated(channel: string, kind: NotificationKind): void;
  /** How long episodes are kept without a touch (a few evaluation intervals). */
  episodeTtlMs(): number;
}

/** @internal True for an alert in a firing episode (firing, or interrupted by nodata/error). */
export function inFiringEpisode(alert: Alert): boolean {
  return (
    alert.state === 'firing' ||
    ((alert.state === 'nodata' || alert.state === 'error') && alert.firingAt !== undefined)
  );
}

/**
 * @internal Turns the alerts of each evaluation into notifications: groups the notifiable firing
 * alerts by policy and `groupBy`, asks each group what is due ({@link planGroup}), claims each
 * notification in the store (one instance of the deployment sends it) and hands it to the deliver
 * hook. Episode starts come from the store, so every instance names a notification alike; when the
 * store is down they are local and each instance deduplicates only its own notifications.
 */
export class Notifier {
  readonly #context: NotifierContext;
  readonly #groups = new Map<string, GroupState>();
  /** Shared start of each alert's firing episode, by fingerprint. */
  readonly #episodes = new Map<string, number>();

  constructor(context: NotifierContext) {
    this.#context = context;
  }

  /** Fingerprints the notifier still holds (in a group or an episode). */
  holds(fingerprint: string): boolean {
    if (this.#episodes.has(fingerprint)) return true;
    for (const group of this.#groups.values()) if (group.seen.has(fingerprint)) return true;
    return false;
  }

  /**
   * One pass after an evaluation, over the alerts in a firing episode (`firing`, in the order of
   * their rules); `current` gives the view of any alert of the instance.
   */
  async tick(
    firing: readonly Alert[],
    current: (fingerprint: string) => Alert | undefined,
    acknowledged: (fingerprint: string) => boolean,
    now: number,
  ): Promise<void> {
    const { guard } = this.#context;
    const ttl = this.#context.episodeTtlMs();
    const active = firing.filter(inFiringEpisode);
    const activeSet = new Set(active.map((a) => a.fingerprint));

    // One round trip for all the alerts that started or ended an episode (ioredis pipelines them).
    const started = active.filter((a) => !this.#episodes.has(a.fingerprint));
    const starts = await Promise.all(
      started.map((alert) => {
        const at = Date.parse(alert.firingAt ?? '') || now;
        const key = `a:${alert.fingerprint}`;
        return guard.call('episode', () => guard.store.episode(key, at, ttl), at);
      }),
    );
    for (const [i, alert] of started.entries()) this.#episodes.set(alert.fingerprint, starts[i]!);
    const ended = [...this.#episodes.keys()].filter((f) => !activeSet.has(f));
    for (const fingerprint of ended) this.#episodes.delete(fingerprint);
    await Promise.all(
      ended.map((f) => guard.call('endEpisode', () => guard.store.endEpisode(`a:${f}`), undefined)),
    );

    const members = new Map<
      string,
      {
        policy: ResolvedPolicy;
        id: string;
        key: string;
        labels: Alert['labels'];
        list: GroupMember[];
      }
    >();
    for (const alert of active) {
      if ((alert.silencedBy?.length ?? 0) > 0 || (alert.inhibitedBy?.length ?? 0) > 0) continue;
      const policy = choosePolicy(this.#context.policies, alert.labels);
      const group = groupOf(policy, alert.labels);
      let entry = members.get(group.id);
      if (entry === undefined) members.set(group.id, (entry = { policy, ...group, list: [] }));
      entry.list.push({
        alert,
        episode: this.#episodes.get(alert.fingerprint)!,
        acknowledged: acknowledged(alert.fingerprint),
      });
    }

    for (const id of new Set([...this.#groups.keys(), ...members.keys()])) {
      const entry = members.get(id);
      const list = entry?.list ?? [];
      let group = this.#groups.get(id);
      if (group === undefined) {
        if (entry === undefined) continue;
        const episode = await guard.call(
          'episode',
          () => guard.store.episode(`g:${id}`, now, ttl),
          now,
        );
        group = {
          id,
          key: entry.key,
          labels: entry.labels,
          policy: entry.policy,
          episode,
          steps: [],
          seen: new Map(),
        };
        this.#groups.set(id, group);
      }
      const plans = planGroup(group, list, activeSet, current, now, () =>
        this.#context.allChannels(),
      );
      for (const plan of plans) await this.#send(group, plan, now);
      if (groupDone(group, list)) {
        this.#groups.delete(id);
        await guard.call('endEpisode', () => guard.store.endEpisode(`g:${id}`), undefined);
      }
    }

    const keys = [
      ...[...this.#episodes.keys()].map((f) => `a:${f}`),
      ...[...this.#groups.keys()].map((g) => `g:${g}`),
    ];
    if (keys.length > 0)
      await guard.call('touchEpisodes', () => guard.store.touchEpisodes(keys, ttl), undefined);
  }

  /**
   * Tells the channels that were notified of `alert` that it was acknowledged: one notification
   * per channel, sent by the instance that took the acknowledgement.
   */
  acknowledged(alert: Alert, now: number): void {
    for (const group of this.#groups.values()) {
      const channels = new Set<string>();
      group.steps.forEach((log) => {
        if (log?.notified.has(alert.fingerprint)) for (const c of log.channels) channels.add(c);
      });
      if (channels.size === 0) continue;
      const id = sha256Hex(
        JSON.stringify([group.id, alert.fingerprint, alert.acknowledged?.at]),
      ).slice(0, 32);
      const notification = this.#notification(group, id, 'acknowledged', 0, [alert], now);
      for (const channel of channels) this.#context.dispatch(channel, notification);
    }
  }

  async #send(group: GroupState, plan: PlannedNotification, now: number): Promise<void> {
    const { guard } = this.#context;
    // Claims outlive any instance's lag behind another, and repeats are named by slot anyway.
    const ttl = Math.max(2 * group.policy.repeatMs, 2 * group.policy.groupIntervalMs, 3_600_000);
    const claimed = await guard.call('claim', () => guard.store.claim(plan.claimKey, ttl), true);
    plan.commit();
    if (!claimed) {
      for (const channel of plan.channels) this.#context.deduplicated(channel, plan.kind);
      return;
    }
    const notification = this.#notification(
      group,
      plan.claimKey,
      plan.kind,
      plan.step,
      plan.alerts,
      now,
    );
    for (const channel of plan.channels) this.#context.dispatch(channel, notification);
  }

  #notification(
    group: GroupState,
    id: string,
    kind: NotificationKind,
    step: number,
    alerts: Alert[],
    now: number,
  ): AlertNotification {
    return {
      id,
      kind,
      group: group.key,
      step,
      alerts,
      createdAt: new Date(now).toISOString(),
      title: notificationTitle(kind, alerts, group.labels),
    };
  }
}
