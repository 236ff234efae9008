import type { Duration } from '../../core/duration.js';
import { durationOption, numberOption } from '../option-checks.js';
import type {
  MaintenanceCache,
  MaintenanceOutcome,
  MaintenanceRunContext,
  MaintenanceTaskOptions,
} from '../types.js';

/**
 * Options of `cache_warming`: the registered warmers, then the hottest `getOrSet`/`@Cached` keys
 * about to expire, refreshed ahead of expiry within a budget.
 *
 * @example
 * ```ts
 * enterprise.maintenance.enable({
 *   cache_warming: { schedule: '*\/5 * * * *', hotKeys: { within: '5m', maxKeys: 200, budget: '20s' } },
 * });
 * ```
 */
export interface CacheWarmingOptions extends MaintenanceTaskOptions {
  /** Run the registered warmers (`cache.registerWarmer`). @defaultValue true */
  warmers?: boolean;
  /** Refresh hot keys ahead of expiry; `false` for none. */
  hotKeys?:
    | {
        /** Keys expiring within this are refreshed. @defaultValue '2m' */
        within?: Duration;
        /** Keys refreshed per run at most. @defaultValue 100 */
        maxKeys?: number;
        /** Time spent refreshing per run at most. @defaultValue '30s' */
        budget?: Duration;
      }
    | false;
}

/** @internal Checks the options when given. */
export function checkCacheWarmingOptions(options: CacheWarmingOptions): void {
  if (options.hotKeys === false || options.hotKeys === undefined) return;
  durationOption(options.hotKeys.within, '2m', 'cache_warming.hotKeys.within');
  durationOption(options.hotKeys.budget, '30s', 'cache_warming.hotKeys.budget');
  numberOption(
    options.hotKeys.maxKeys,
    100,
    'cache_warming.hotKeys.maxKeys',
    (n) => Number.isInteger(n) && n >= 1,
    'an integer of 1 or more',
  );
}

/** @internal `cache_warming`. */
export async function cacheWarming(
  options: CacheWarmingOptions,
  cache: MaintenanceCache | undefined,
  context: MaintenanceRunContext,
): Promise<MaintenanceOutcome> {
  if (cache === undefined) {
    return {
      examined: {},
      done: {},
      notes: ['the cache is not in use in this process: nothing to warm'],
    };
  }
  const outcome: MaintenanceOutcome = { examined: {}, done: {}, details: {} };
  if (options.warmers !== false) {
    const names = cache.warmers();
    outcome.examined.warmers = names.length;
    if (!context.dryRun && names.length > 0) {
      const results = await cache.warm();
      outcome.done.warmersRun = results.filter((r) => r.ok).length;
      outcome.done.warmersFailed = results.filter((r) => !r.ok).length;
      outcome.details!.warmers = results;
    }
  }
  if (options.hotKeys !== false) {
    const hot = options.hotKeys ?? {};
    const withinMs = durationOption(hot.within, '2m', 'within');
    const budgetMs = Math.min(
      durationOption(hot.budget, '30s', 'budget'),
      Math.max(0, context.deadline - Date.now()),
    );
    const report = await cache.refreshHotKeys({
      withinMs,
      maxKeys: context.dryRun ? 0 : (hot.maxKeys ?? 100),
      budgetMs,
      signal: context.signal,
    });
    outcome.examined.hotKeys = report.examined;
    outcome.done.hotKeysRefreshed = report.refreshed;
    outcome.done.hotKeysFailed = report.failed;
    outcome.details!.refreshed = report.keys.slice(0, 50);
  }
  return outcome;
}
