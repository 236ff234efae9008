export { HistoryQueryError, HistoryStoreError } from './errors.js';
export {
  type CacheFiguresInput,
  cacheFigures,
  type HistoryFigure,
  type HistoryFigureSource,
  systemFigures,
  type TaskFiguresInput,
  taskFigures,
} from './figures.js';
export { MemoryHistoryStore, type MemoryHistoryStoreOptions } from './memory-store.js';
export {
  MetricsHistory,
  type MetricsHistoryOptions,
} from './metrics-history.js';
export type { OperationTotalsSource } from './operation-deltas.js';
export {
  type HistoryPgClient,
  type HistoryPgPool,
  PostgresHistoryStore,
  type PostgresHistoryStoreOptions,
} from './postgres-store.js';
export {
  HistoryRecorder,
  type HistoryRecorderOptions,
  type HistoryRecorderStatus,
} from './recorder.js';
export { RedisHistoryStore, type RedisHistoryStoreOptions } from './redis-store.js';
export type { HistoryStoreOptions } from './store-settings.js';
export type * from './types.js';
