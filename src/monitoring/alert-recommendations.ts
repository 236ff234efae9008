// `GET /alerts/recommendations`: advice from the figures of the modules the instance has built,
// judged by the alerts module's recommendation checks. The checks are loaded on the first request,
// so the monitoring entry does not load the alerts module for an instance that has none.
import type { Recommendation, RecommendationInputs } from '../alerts/recommendation-types.js';
import type { Recommender } from '../alerts/recommendations.js';
import type { MonitoredInstance } from './monitored-instance.js';

type RecommendationsModule = typeof import('../alerts/recommendations.js');

/** The body of `GET /alerts/recommendations`. */
export interface RecommendationsAnswer {
  /** When the figures were read. */
  at: string;
  /** Most severe first. */
  recommendations: Recommendation[];
  /** Which modules' figures were judged: a module not built, or whose figures could not be read, is not. */
  figures: { performance: boolean; cache: boolean; tasks: boolean };
}

/**
 * Snapshots kept for the trend checks (a queue whose oldest task keeps ageing, an operation ranked
 * first for a long time) at most this often, however often the endpoint is called: the
 * recommender keeps a bounded number of samples, which must span minutes, not a burst of polls.
 */
const HISTORY_EVERY_MS = 15_000;

/**
 * @internal Reads the figures and judges them. One per router: its recommender remembers the
 * earlier snapshots the trend checks need.
 */
export class RecommendationReader {
  readonly #enterprise: MonitoredInstance;
  readonly #timeoutMs: number;
  readonly #onError: (message: string, error: unknown) => void;
  #module: Promise<RecommendationsModule> | undefined;
  #recommender: Recommender | undefined;
  #recordedAt = Number.NEGATIVE_INFINITY;

  constructor(
    enterprise: MonitoredInstance,
    timeoutMs: number,
    onError: (message: string, error: unknown) => void,
  ) {
    this.#enterprise = enterprise;
    this.#timeoutMs = timeoutMs;
    this.#onError = onError;
  }

  async read(): Promise<RecommendationsAnswer> {
    this.#module ??= import('../alerts/recommendations.js');
    const checks = await this.#module;
    const at = Date.now();
    const inputs: Omit<RecommendationInputs, 'history'> = {
      at,
      ...checks.performanceFigures(this.#enterprise.performance),
    };
    const figures = { performance: true, cache: false, tasks: false };
    const cache = this.#enterprise.peek('cache');
    if (cache !== undefined) {
      inputs.cache = checks.cacheFigures(cache);
      figures.cache = true;
    }
    const tasks = this.#enterprise.peek('tasks');
    if (tasks !== undefined) {
      try {
        inputs.queues = await within(checks.taskFigures(tasks), this.#timeoutMs);
        figures.tasks = true;
      } catch (error) {
        this.#onError('task figures could not be read for the recommendations', error);
      }
    }
    this.#recommender ??= new checks.Recommender();
    let recommendations: Recommendation[];
    if (at - this.#recordedAt >= HISTORY_EVERY_MS) {
      this.#recordedAt = at;
      recommendations = this.#recommender.update(inputs);
    } else {
      recommendations = checks.recommend({ ...inputs, history: this.#recommender.history });
    }
    return { at: new Date(at).toISOString(), recommendations, figures };
  }
}

/** `promise`, or a rejection once `ms` have passed (the late outcome is then ignored). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
