import type { Logger } from '../../core/logger.js';
import { rejectAfter } from '../../core/timeout.js';
import type { OperationWindows } from '../../performance/types.js';
import { publishedWindow } from './merge.js';
import type {
  CacheCounters,
  ClusterInstance,
  InstanceSnapshot,
  PublishedOperation,
  TaskCounters,
} from './types.js';

/** The most operations a heartbeat carries: the busiest since the instance started. */
export const MAX_PUBLISHED_OPERATIONS = 500;

/** @internal Where an instance's published figures come from (the cluster view's options). */
export interface SnapshotSources {
  operations?: { operationWindows(): readonly OperationWindows[] };
  cache?: () => CacheCounters | undefined;
  tasks?: () => TaskCounters | undefined | Promise<TaskCounters | undefined>;
}

/**
 * @internal What an instance publishes with a heartbeat: its identity, its operations over every
 * window as counts and buckets, its cache and task counters. A source that throws or takes longer
 * than `timeoutMs` costs only its own part.
 */
export async function instanceSnapshot(
  instance: ClusterInstance,
  sources: SnapshotSources,
  timeoutMs: number,
  log: Logger,
): Promise<InstanceSnapshot> {
  let operations: PublishedOperation[] = [];
  try {
    const all = [...(sources.operations?.operationWindows() ?? [])];
    // A heartbeat stays small: the busiest operations only, when there are very many.
    if (all.length > MAX_PUBLISHED_OPERATIONS) {
      all.sort((a, b) => b.windows.all.count - a.windows.all.count);
      all.length = MAX_PUBLISHED_OPERATIONS;
    }
    operations = all.map((op) => ({
      name: op.name,
      labels: { ...op.labels },
      windows: {
        '1m': publishedWindow(op.windows['1m']),
        '5m': publishedWindow(op.windows['5m']),
        '15m': publishedWindow(op.windows['15m']),
        all: publishedWindow(op.windows.all),
      },
    }));
  } catch (error) {
    log.warn({ err: error }, 'reading the operations for the cluster view failed');
  }
  const read = async <T>(source: (() => T | undefined | Promise<T | undefined>) | undefined) => {
    if (source === undefined) return null;
    try {
      return (await rejectAfter(Promise.resolve().then(source), timeoutMs, 'no figures')) ?? null;
    } catch {
      return null;
    }
  };
  const [cache, tasks] = await Promise.all([read(sources.cache), read(sources.tasks)]);
  return { instance, operations, cache, tasks };
}
