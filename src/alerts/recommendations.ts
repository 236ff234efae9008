// Advice derived from measured figures: what to change, and the numbers that say so. The figures are
// plain data (see recommendation-inputs.ts for building them from the modules), so the checks are
// testable without a monitor, a cache or a task manager.
import {
  cacheLoaderCheck,
  dominantQueryCheck,
  eventLoopCheck,
  leaderOf,
  persistentBottleneckCheck,
  queueAgeingCheck,
} from './recommendation-checks.js';
import type {
  Recommendation,
  RecommendationHistory,
  RecommendationInputs,
  RecommendOptions,
  RecommendSettings,
} from './recommendation-types.js';
import type { AlertSeverity } from './types.js';

export {
  cacheFigures,
  type PerformanceFiguresOptions,
  type PerformanceFiguresReader,
  performanceFigures,
  type RecommendationModules,
  recommendationInputs,
  taskFigures,
} from './recommendation-inputs.js';
export type * from './recommendation-types.js';

const DEFAULTS: RecommendSettings = {
  dominantQueryShare: 0.5,
  minQueryTimeMs: 1_000,
  lowHitRatio: 0.5,
  slowLoaderMs: 100,
  minLookups: 100,
  queueAgeMs: 60_000,
  queueSamples: 3,
  queueSpanMs: 5 * 60_000,
  blockedLoopMs: 100,
  leaderForMs: 15 * 60_000,
  leaderShare: 0.3,
};

const SEVERITY_ORDER: Record<AlertSeverity, number> = { critical: 0, warning: 1, info: 2 };

/**
 * Recommendations from one snapshot of figures (and, for the checks that need a trend, the
 * history of earlier ones): a SQL statement that dominates database time, a cache namespace with a
 * low hit ratio and a slow loader, a queue whose oldest waiting task keeps ageing, an operation
 * that blocks the event loop, and an operation ranked first by total time for a long time. Most
 * severe first.
 *
 * @example
 * ```ts
 * const advice = recommend(await recommendationInputs({ performance, cache, tasks }));
 * for (const r of advice) console.log(`[${r.severity}] ${r.title}: ${r.advice}`);
 * ```
 */
export function recommend(
  inputs: RecommendationInputs,
  options: RecommendOptions = {},
): Recommendation[] {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const found = [
    ...dominantQueryCheck(inputs, settings),
    ...cacheLoaderCheck(inputs, settings),
    ...queueAgeingCheck(inputs, settings),
    ...eventLoopCheck(inputs, settings),
    ...persistentBottleneckCheck(inputs, settings),
  ];
  return found.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}

/** How many oldest-waiting-age samples the recommender keeps per queue. */
const QUEUE_SAMPLES_KEPT = 120;

/**
 * Recommendations that remember: fed a snapshot at each call (every minute, say), it keeps what
 * the trend checks need — each queue's oldest waiting age over time, and which operation has been
 * ranked first by total time and since when — and returns {@link recommend}'s answer on the
 * snapshot with that history.
 *
 * @example
 * ```ts
 * const recommender = new Recommender();
 * setInterval(async () => {
 *   const advice = recommender.update(await recommendationInputs({ performance, tasks }));
 *   publish(advice);
 * }, 60_000).unref();
 * ```
 */
export class Recommender {
  readonly #options: RecommendOptions;
  readonly #settings: RecommendSettings;
  #queueAges = new Map<string, { at: number; ms: number }[]>();
  #leader: { key: string; since: number } | undefined;

  constructor(options: RecommendOptions = {}) {
    this.#options = options;
    this.#settings = { ...DEFAULTS, ...definedOnly(options) };
  }

  /** Judges `inputs` with the history of the earlier snapshots, then adds it to the history. */
  update(inputs: Omit<RecommendationInputs, 'history'>): Recommendation[] {
    const history = this.history;
    const result = recommend({ ...inputs, history }, this.#options);
    if (inputs.queues !== undefined) {
      const ages = new Map<string, { at: number; ms: number }[]>();
      for (const queue of inputs.queues) {
        const samples = [...(this.#queueAges.get(queue.queue) ?? [])];
        samples.push({ at: inputs.at, ms: queue.oldestWaitingMs });
        ages.set(queue.queue, samples.slice(-QUEUE_SAMPLES_KEPT));
      }
      this.#queueAges = ages;
    }
    if (inputs.bottlenecks !== undefined) {
      this.#leader = leaderOf({ ...inputs, history }, this.#settings);
    }
    return result;
  }

  /** What the recommender remembers, as given to {@link recommend}. */
  get history(): RecommendationHistory {
    const history: RecommendationHistory = {
      queueAges: Object.fromEntries(this.#queueAges),
    };
    if (this.#leader !== undefined) history.leader = { ...this.#leader };
    return history;
  }
}

function definedOnly(options: RecommendOptions): RecommendOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
