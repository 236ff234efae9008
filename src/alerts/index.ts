export type { RecommendationReader } from './advisor.js';
export type { AlertFilter } from './alert-view.js';
export { type AlertRuleHandle, Alerts } from './alerts.js';
export {
  BUILTIN_RULES,
  type BuiltinRuleKey,
  type BuiltinRulesOptions,
  type BuiltinRuleTuning,
  builtinRules,
} from './builtin-rules.js';
export * from './channels/index.js';
export type { AlertChannelStatus, AlertDeliver, DeliveryOutcome } from './delivery.js';
export { AlertChannelError, AlertRuleError, AlertSilenceError } from './errors.js';
export type { EscalationPolicy, EscalationStep } from './escalation.js';
export type * from './history-reader.js';
export type { InhibitionRule } from './inhibit.js';
export { MemoryAlertStore } from './memory-store.js';
export type { AlertRouteOptions, AlertsOptions } from './options.js';
export {
  type RecommendationModules,
  recommendationInputs,
} from './recommendation-inputs.js';
export type * from './recommendation-types.js';
export { Recommender, recommend } from './recommendations.js';
export { RedisAlertStore, type RedisAlertStoreOptions } from './redis-store.js';
export type { AlertRuleSummary } from './rule-summary.js';
export { type SilenceInput, type SilenceStatus, silenceStatus } from './silence.js';
export * from './sources/index.js';
export type * from './types.js';
