import { type AlertsSnapshot, toAlertsSnapshot } from './alert-stream.js';
import type { HealthChecker } from './health.js';
import type { MonitoredInstance } from './monitored-instance.js';
import { type SecuritySnapshot, toSecuritySnapshot } from './security-stream.js';
import {
  type CacheSnapshot,
  disabledCacheSnapshot,
  type MonitoringSnapshot,
  toCacheSnapshot,
  toPerformanceSnapshot,
  toSystemSnapshot,
} from './snapshot.js';
import type { TaskFigures } from './task-figures.js';

/** @internal What {@link snapshotBuilder} reads. */
export interface SnapshotSources {
  enterprise: MonitoredInstance;
  health: HealthChecker;
  /** Health results younger than this are reused rather than probed again. */
  healthAgeMs: number;
  taskFigures: TaskFigures;
  /** Where failures to read a section go (throttled by the caller). */
  onError: (message: string, error: unknown) => void;
}

/**
 * @internal Builds the snapshots of the real-time stream; a section that cannot be read is `null`
 * rather than failing the whole snapshot.
 */
export function snapshotBuilder(
  sources: SnapshotSources,
): () => Promise<Omit<MonitoringSnapshot, 'seq'>> {
  const { enterprise, health, healthAgeMs, taskFigures, onError } = sources;
  return async () => {
    const [healthReport, tasks] = await Promise.all([
      health.check(healthAgeMs),
      taskFigures.read().catch((error: unknown) => {
        onError('task figures could not be read for the snapshot', error);
        return null;
      }),
    ]);
    return {
      time: new Date().toISOString(),
      uptimeSeconds: process.uptime(),
      health: healthReport,
      system: toSystemSnapshot(enterprise.performance.system()),
      performance: toPerformanceSnapshot(enterprise.performance),
      cache: cacheSnapshot(enterprise),
      tasks,
      alerts: alertsSnapshot(enterprise, onError),
      security: securitySnapshot(enterprise, onError),
    };
  };
}

function alertsSnapshot(
  enterprise: MonitoredInstance,
  onError: SnapshotSources['onError'],
): AlertsSnapshot | null {
  try {
    return toAlertsSnapshot(enterprise.peek('alerts'));
  } catch (error) {
    onError('the alerts could not be read for the snapshot', error);
    return null;
  }
}

function securitySnapshot(
  enterprise: MonitoredInstance,
  onError: SnapshotSources['onError'],
): SecuritySnapshot | null {
  try {
    return toSecuritySnapshot(enterprise.peek('security'));
  } catch (error) {
    onError('the security figures could not be read for the snapshot', error);
    return null;
  }
}

function cacheSnapshot(enterprise: MonitoredInstance): CacheSnapshot | null {
  if (enterprise.state === 'stopping' || enterprise.state === 'stopped') return null;
  const cache = enterprise.peek('cache');
  if (cache === undefined) return disabledCacheSnapshot();
  try {
    return toCacheSnapshot(cache.analytics());
  } catch {
    return null;
  }
}
