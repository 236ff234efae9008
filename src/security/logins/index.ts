export { LoginAnalytics, type LoginAnalyticsEvents } from './login-analytics.js';
export type { DelayOptions, LockoutOptions, LoginAnalyticsOptions } from './options.js';
export type { LockoutEvent, LoginCheck } from './policy.js';
export type { LoginStats } from './stats.js';
export { type LoginRecorder, type WrapLoginOptions, wrapLogin } from './wrap-login.js';
