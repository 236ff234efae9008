export { ClusterCopyStore, type RollupCopyTarget } from './cluster-copy-store.js';
export { ClusterView, type ClusterViewOptions, INSTANCE_LABEL } from './cluster-view.js';
export {
  type CacheCountersInput,
  cacheCounters,
  type TaskCountersInput,
  taskCounters,
} from './counters.js';
export { ClusterUnavailableError } from './errors.js';
export type * from './types.js';
