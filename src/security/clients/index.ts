export { type ClientMatcher, exactClients } from './client-matcher.js';
export { ClientRisk, type ClientRiskEntry, type RiskSource } from './client-risk.js';
export { type ClientRiskOptions, DEFAULT_RISK_WEIGHTS, type RiskWeights } from './risk-options.js';
