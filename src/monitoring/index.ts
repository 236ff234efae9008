export { sqlFingerprint } from '../performance/sql-fingerprint.js';
export type { MonitoringAuth } from './auth.js';
export {
  MonitoringConfigError,
  type MonitoringErrorCode,
  MonitoringRequestError,
} from './errors.js';
export type { HealthCheck, HealthCheckResult, HealthOptions } from './health.js';
export type { MonitoredInstance, MonitoredModules } from './monitored-instance.js';
export {
  type DatabasePerformance,
  DB_QUERY_OPERATION,
  instrumentPg,
  monitorQuery,
  type PgQueryable,
  type QueryMonitorOptions,
  type SlowQuery,
  type StatementStats,
} from './query-monitor.js';
export {
  createMonitoringRouter,
  type MonitoringRouter,
  type MonitoringRouterOptions,
} from './router.js';
export {
  API_CONTENT_SECURITY_POLICY,
  applySecurityHeaders,
  BASE_SECURITY_HEADERS,
  BASIC_SECURITY_HEADERS,
  DASHBOARD_CONTENT_SECURITY_POLICY,
  DEFAULT_CONTENT_SECURITY_POLICY,
  HELMET_SECURITY_HEADERS,
  type SecurityHeadersOptions,
  securityHeaders,
} from './security-headers.js';
export type * from './snapshot.js';
