// Groups and rate limits in the task store's contract: what a backend keeps for them and the
// optional part of TaskBackend that serves them (re-exported by types.ts).

/** A rate limit: at most `limit` starts per window of `perMs`, windows aligned on the store's clock. */
export interface RateLimitSpec {
  limit: number;
  perMs: number;
}

/** The limits of one queue and the defaults of its groups, kept by the store for every process. */
export interface QueueLimits {
  /** Starts of the queue per window, across every process; absent: none. */
  rateLimit?: RateLimitSpec;
  /**
   * A limit shared by every queue configured with the same `name` (one external API behind
   * several queues): their starts together, per window, across every process; absent: none.
   */
  sharedLimit?: RateLimitSpec & { name: string };
  /** Tasks of one group held by workers at once, across every process; 0 or absent: no cap. */
  groupMaxConcurrency?: number;
  /** Starts per window of each group (counted per group); absent: none. */
  groupRateLimit?: RateLimitSpec;
}

/** What one group overrides of its queue's defaults. */
export interface GroupSettings {
  /** Its share of turns relative to the other groups (2 takes twice as many). @defaultValue 1 */
  weight?: number;
  /** Overrides the queue's `groupMaxConcurrency` for this group (0: no cap). */
  maxConcurrency?: number;
}

/** One group of a queue, as {@link TaskGroupBackend.groups} lists it. */
export interface GroupInfo {
  group: string;
  /** Ready tasks waiting for their turn. */
  waiting: number;
  /** Tasks held by workers now. */
  active: number;
  paused: boolean;
  /** While the group waits out a rate limit: until when (epoch ms, the store's clock). */
  limitedUntil?: number;
  weight: number;
  /** 0: no cap. */
  maxConcurrency: number;
}

/** What {@link TaskGroupBackend.groups} answers. */
export interface GroupList {
  /** Groups listed in all (with work, held tasks, paused or waiting out a limit). */
  total: number;
  /** Ready and held tasks over every group (not only those in `groups`). */
  waiting: number;
  active: number;
  /** The queue's limits and group defaults as stored. */
  limits: QueueLimits;
  /** The deepest groups, at most the number asked for. */
  groups: GroupInfo[];
}

/**
 * What a store offers for groups and limits. Both built-in backends implement it; a backend
 * without it refuses grouped tasks and limits (the task manager checks).
 */
export interface TaskGroupBackend {
  /**
   * Stores the queue's limits and group defaults (replacing earlier ones), for every process;
   * tells every subscriber with a `limits` event, sent once they are stored.
   */
  configureQueue(queue: string, limits: QueueLimits): Promise<void>;
  /** Stores one group's weight and cap (replacing earlier ones). */
  configureGroup(queue: string, group: string, settings: GroupSettings): Promise<void>;
  /**
   * Claims take nothing of the group (in every process) until {@link resumeGroup}; tells every
   * subscriber with a `group-paused` event, sent once claims stopped.
   */
  pauseGroup(queue: string, group: string): Promise<void>;
  /** Lets claims take the group's tasks again; tells every subscriber (`group-resumed`). */
  resumeGroup(queue: string, group: string): Promise<void>;
  /**
   * Groups with ready or active tasks (or paused or waiting out a limit), the deepest first, at
   * most `limit`; `total` counts them all.
   */
  groups(queue: string, limit: number): Promise<GroupList>;
  /**
   * The queue's limits as stored (what `groups(queue, 0).limits` answers, without counting the
   * groups). Worker pools read it periodically; optional: without it they call `groups`.
   */
  queueLimits?(queue: string): Promise<QueueLimits>;
  /**
   * The paused groups of `queue`, sorted. Worker pools read it periodically, so that a process
   * whose `group-paused` event was lost still gives back the tasks of the group it claimed
   * ahead; optional: without it only the events tell them.
   */
  pausedGroups?(queue: string): Promise<string[]>;
}
