export {
  type AlertChannelHarness,
  type AlertChannelUnderTest,
  describeAlertChannel,
  sampleAlert,
  sampleNotification,
} from './alert-channel.js';
export {
  type AlertStoreHarness,
  type AlertStoreUnderTest,
  describeAlertStore,
} from './alert-store.js';
export {
  type AnalyticsStoreHarness,
  type AnalyticsStoreUnderTest,
  describeAnalyticsStore,
} from './analytics-store.js';
export {
  type BanStoreHarness,
  type BanStoreUnderTest,
  describeBanStore,
  sampleBan,
} from './ban-store.js';
export { describeCacheTier, entryMeta, type TierHarness } from './cache-tier.js';
export { eventually } from './eventually.js';
export {
  describeHistoryStore,
  type HistoryStoreHarness,
  type HistoryStoreHarnessOptions,
  type HistoryStoreUnderTest,
} from './history-store.js';
export {
  describeRateLimitStore,
  type RateLimitStoreHarness,
  type RateLimitStoreUnderTest,
} from './rate-limit-store.js';
export {
  describeTaskBackend,
  type TaskBackendHarness,
  type TaskBackendHarnessOptions,
} from './task-backend.js';
export type { TestApi } from './test-api.js';
