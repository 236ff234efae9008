import type { RetentionSpec } from '../../types.js';
import type { BackendConnection } from './connection.js';
import type { BackendKeys } from './keys.js';

/** What the Redis task backend's commands use of the backend they run for. */
export interface BackendContext {
  readonly conn: BackendConnection;
  readonly keys: BackendKeys;
  /** First segment of every key. */
  readonly prefix: string;
  /** The pub/sub channel of the backend's events. */
  readonly channel: string;
  readonly retention: RetentionSpec;
  /** How long a call's answer is remembered for a re-send. */
  readonly memoMs: number;
  /** Queues this process has recorded in `<prefix>:queues`. */
  readonly recorded: Set<string>;
}
