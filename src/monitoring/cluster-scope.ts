// The `scope` query parameter of the summary endpoints: `instance` (the default) answers for this
// process, `cluster` for every instance of the deployment through the cluster view.
import type { ClusterView } from '../analytics/cluster/cluster-view.js';
import { EnterpriseError } from '../core/errors.js';
import { MonitoringRequestError } from './errors.js';
import type { MonitoredInstance } from './monitored-instance.js';
import type { Schema } from './openapi-builders.js';
import { badRequest } from './request-body.js';

/** @internal The `scope` parameter as the route table declares it. */
export const SCOPE_PARAMETER: { name: string; description: string; schema: Schema } = {
  name: 'scope',
  description:
    '`instance` (this process) or `cluster`: every instance of the deployment alive (merged percentiles, per-instance breakdown); `cluster` needs the cluster view (`analytics.cluster` and Redis), else a 400 `E_CLUSTER_NOT_CONFIGURED`.',
  schema: { type: 'string', enum: ['instance', 'cluster'], default: 'instance' },
};

/**
 * @internal The cluster view when the request asks for `scope=cluster`, `undefined` for this
 * instance; a 400 naming `scope` for another value or when the instance has no cluster view
 * (it is never built by a read).
 */
export function clusterScope(
  enterprise: MonitoredInstance,
  scope: string | undefined,
): ClusterView | undefined {
  if (scope === undefined || scope === '' || scope === 'instance') return undefined;
  if (scope !== 'cluster') throw badRequest('scope must be instance or cluster', 'scope');
  const cluster = enterprise.peek('cluster');
  if (cluster === undefined) {
    throw new MonitoringRequestError(
      400,
      'E_CLUSTER_NOT_CONFIGURED',
      'scope=cluster needs the cluster view, which publishes each instance to Redis: give analytics: { cluster: {} } and a Redis URL (REDIS_URL)',
      {},
      { field: 'scope' },
    );
  }
  return cluster;
}

/** @internal A cluster answer; Redis failing is a 503. */
export async function clusterAnswer<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof EnterpriseError && error.code === 'E_CLUSTER_UNAVAILABLE') {
      throw new MonitoringRequestError(503, 'E_UNAVAILABLE', error.message);
    }
    throw error;
  }
}
