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
import { isoTime } from './iso-time.js';
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
  /** Shared start of each alert's firing episode, and its key in the store, by fingerprint. */
  readonly #episodes = new Map<string, { at: number; key: string }>();
  /**
   * The policy and group of each label set seen: both follow from the labels alone, and a
   * series keeps its labels object, so each is chosen and hashed once, not at every tick.
   */
  readonly #routes = new WeakMap<
    Alert['labels'],
    { policy: ResolvedPolicy; group: ReturnType<typeof groupOf> }
  >();

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
    const activeSet = new Set<string>();
    for (const alert of active) activeSet.add(alert.fingerprint);

    // One round trip for all the alerts that started or ended an episode (ioredis pipelines them).
    const started = active.filter((a) => !this.#episodes.has(a.fingerprint));
    const starts = await Promise.all(
      started.map((alert) => {
        const at = Date.parse(alert.firingAt ?? '') || now;
        const key = `a:${alert.fingerprint}`;
        return guard.call('episode', () => guard.store.episode(key, at, ttl), at);
      }),
    );
    for (let i = 0; i < started.length; i++) {
      const { fingerprint } = started[i]!;
      this.#episodes.set(fingerprint, { at: starts[i]!, key: `a:${fingerprint}` });
    }
    const ended: Promise<unknown>[] = [];
    for (const [fingerprint, episode] of this.#episodes) {
      if (activeSet.has(fingerprint)) continue;
      this.#episodes.delete(fingerprint);
      ended.push(guard.call('endEpisode', () => guard.store.endEpisode(episode.key), undefined));
    }
    await Promise.all(ended);

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
      const { policy, group } = this.#route(alert.labels);
      let entry = members.get(group.id);
      if (entry === undefined) members.set(group.id, (entry = { policy, ...group, list: [] }));
      entry.list.push({
        alert,
        episode: this.#episodes.get(alert.fingerprint)!.at,
        acknowledged: acknowledged(alert.fingerprint),
      });
    }

    // The store calls of the groups go out together, each kind in one round trip: the groups'
    // new episodes, then the claims of every notification due, then the episodes that ended.
    const fresh: string[] = [];
    for (const id of members.keys()) if (!this.#groups.has(id)) fresh.push(id);
    const episodes = await Promise.all(
      fresh.map((id) => guard.call('episode', () => guard.store.episode(`g:${id}`, now, ttl), now)),
    );
    for (let i = 0; i < fresh.length; i++) {
      const id = fresh[i]!;
      const entry = members.get(id)!;
      this.#groups.set(id, {
        id,
        key: entry.key,
        labels: entry.labels,
        policy: entry.policy,
        episode: episodes[i]!,
        steps: [],
        seen: new Map(),
      });
    }

    const allChannels = () => this.#context.allChannels();
    const due: { group: GroupState; plan: PlannedNotification }[] = [];
    for (const group of this.#groups.values()) {
      const list = members.get(group.id)?.list ?? [];
      for (const plan of planGroup(group, list, activeSet, current, now, allChannels)) {
        due.push({ group, plan });
      }
    }
    const claimed = await Promise.all(
      due.map(({ group, plan }) => {
        // Claims outlive any instance's lag behind another, and repeats are named by slot anyway.
        const { repeatMs, groupIntervalMs } = group.policy;
        const claimTtl = Math.max(2 * repeatMs, 2 * groupIntervalMs, 3_600_000);
        return guard.call('claim', () => guard.store.claim(plan.claimKey, claimTtl), true);
      }),
    );
    for (let i = 0; i < due.length; i++) this.#send(due[i]!.group, due[i]!.plan, claimed[i]!, now);
    const done: string[] = [];
    for (const group of this.#groups.values()) {
      if (groupDone(group, members.get(group.id)?.list ?? [])) done.push(group.id);
    }
    for (const id of done) this.#groups.delete(id);
    await Promise.all(
      done.map((id) =>
        guard.call('endEpisode', () => guard.store.endEpisode(`g:${id}`), undefined),
      ),
    );

    const keys: string[] = [];
    for (const episode of this.#episodes.values()) keys.push(episode.key);
    for (const id of this.#groups.keys()) keys.push(`g:${id}`);
    if (keys.length > 0)
      await guard.call('touchEpisodes', () => guard.store.touchEpisodes(keys, ttl), undefined);
  }

  /** The policy that routes alerts with `labels`, and their group under it. */
  #route(labels: Alert['labels']): { policy: ResolvedPolicy; group: ReturnType<typeof groupOf> } {
    let route = this.#routes.get(labels);
    if (route === undefined) {
      const policy = choosePolicy(this.#context.policies, labels);
      route = { policy, group: groupOf(policy, labels) };
      this.#routes.set(labels, route);
    }
    return route;
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

  /**
   * Records a plan as sent, and hands its notification over when this instance claimed it
   * (otherwise another instance sends it).
   */
  #send(group: GroupState, plan: PlannedNotification, claimed: boolean, now: number): void {
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
      createdAt: isoTime(now),
      title: notificationTitle(kind, alerts, group.labels),
    };
  }
}
