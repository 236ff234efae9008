export * from './client-key/index.js';
export * from './clients/index.js';
export { SecurityConfigError, SecurityRefusalError } from './errors.js';
export * from './logins/index.js';
export * from './rate-limit/index.js';
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
export type * from './types.js';
