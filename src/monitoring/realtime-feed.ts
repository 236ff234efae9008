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
