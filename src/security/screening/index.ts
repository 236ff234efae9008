export { type AuthBurstTracker, createAuthBurstTracker } from './auth-burst.js';
export { createScreener } from './screener.js';
export type * from './types.js';
