export { BanList, type BanListEvents, type BanListOptions } from './ban-list.js';
export type { BanChange, WatchedBanStore } from './ban-store.js';
export { type ClientMatcher, exactClients } from './client-matcher.js';
export { ClientRisk, type ClientRiskEntry, type RiskSource } from './client-risk.js';
export { type ClientDecision, Clients, type ClientsOptions } from './clients.js';
export { MemoryBanStore } from './memory-ban-store.js';
export { RedisBanStore, type RedisBanStoreOptions } from './redis-ban-store.js';
export { type ClientRiskOptions, DEFAULT_RISK_WEIGHTS, type RiskWeights } from './risk-options.js';
