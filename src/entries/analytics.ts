// The `@revcopy/enterprise/analytics` entry: event tracking (`Analytics`) and the metrics history
// (recorder, stores, figures), and the composition that builds an instance's `analytics` and
// `history`, the capacity planner and the reports (`capacity`, `reports`).
import '../enterprise.js';
import '../compose/analytics.js';
import '../compose/reports.js';

export * from '../analytics/index.js';
export type {
  CapacityModuleOptions,
  EnterpriseAnalyticsOptions,
  HistoryModuleOptions,
  ReportsModuleOptions,
} from '../analytics/module-options.js';
export { REPORT_TASK } from '../compose/reports.js';
