// The `@revcopy/enterprise/analytics` entry: event tracking (`Analytics`) and the metrics history
// (recorder, stores, figures), and the composition that builds an instance's `analytics` and
// `history`.
import '../enterprise.js';
import '../compose/analytics.js';

export * from '../analytics/index.js';
export type {
  EnterpriseAnalyticsOptions,
  HistoryModuleOptions,
} from '../analytics/module-options.js';
