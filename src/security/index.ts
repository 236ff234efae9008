export * from './client-key/index.js';
export * from './clients/index.js';
export type { LimitChange } from './dynamic-limits.js';
export { SecurityConfigError, SecurityRefusalError } from './errors.js';
export * from './logins/index.js';
export type { MiddlewareSecurityOptions } from './middleware-option.js';
export type { DynamicLimitsOptions, SecurityOptions } from './options.js';
export * from './rate-limit/index.js';
export {
  type ReportedSecurity,
  type SecurityReport,
  securityMetricFamilies,
  securityReport,
} from './report.js';
export type {
  HygieneCheck,
  SecurityRefusal,
  SecurityVerdict,
} from './request-gate.js';
export { compileRouteLimits, type RouteRateLimit } from './route-limits.js';
export {
  DEFAULT_SCORE_WEIGHTS,
  type SecurityScoreComponent,
  type SecurityScoreComponentName,
  type SecurityScoreEvent,
  type SecurityScoreEvents,
  type SecurityScoreInputs,
  SecurityScoreMonitor,
  type SecurityScoreMonitorOptions,
  type SecurityScoreResult,
  securityScore,
} from './score.js';
export * from './screening/index.js';
export { Security, type SecurityEvents } from './security.js';
export type * from './types.js';
export type { SecurityMinute, SecurityTotals } from './window.js';
