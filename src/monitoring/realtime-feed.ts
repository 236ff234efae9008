/**
 * @internal A source of events sent on the stream as they happen, besides the snapshots. It is
 * attached when the first client connects and again at every tick (it may find its source only
 * later), and detached when the last client leaves, so it listens only while someone watches.
 */
export interface RealtimeFeed {
  /** Starts (or keeps) listening; `publish` sends one event to every client. Idempotent. */
  attach(publish: (event: string, data: unknown) => void): void;
  /** Stops listening. */
  detach(): void;
}

/**
 * @internal Several feeds as one: each is attached and detached with the others, and one that
 * throws does not keep the next from attaching (the first error is rethrown once all were tried).
 */
export function combineFeeds(...feeds: RealtimeFeed[]): RealtimeFeed {
  const each = (call: (feed: RealtimeFeed) => void) => {
    let failure: { error: unknown } | undefined;
    for (const feed of feeds) {
      try {
        call(feed);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  };
  return {
    attach: (publish) => each((feed) => feed.attach(publish)),
    detach: () => each((feed) => feed.detach()),
  };
}
