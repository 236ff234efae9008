// Keeps the recommendations current: fed a snapshot of the modules' figures at each evaluation,
// so advice that needs history (a queue that keeps ageing, a lasting bottleneck) has it.
import type { Logger } from '../core/logger.js';
import type {
  Recommendation,
  RecommendationInputs,
  RecommendOptions,
} from './recommendation-types.js';
import { Recommender } from './recommendations.js';

/** Reads the modules' figures for one snapshot (see `recommendationInputs`). */
export type RecommendationReader = () => Promise<Omit<RecommendationInputs, 'history'>>;

/** @internal The engine's recommender, sampled at most once per `minGapMs`. */
export class Advisor {
  readonly #recommender: Recommender;
  readonly #read: RecommendationReader;
  readonly #log: Logger;
  readonly #minGapMs: number;
  #latest: Recommendation[] = [];
  #sampledAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<Recommendation[]> | undefined;

  constructor(
    read: RecommendationReader,
    log: Logger,
    options: RecommendOptions = {},
    minGapMs = 10_000,
  ) {
    this.#recommender = new Recommender(options);
    this.#read = read;
    this.#log = log;
    this.#minGapMs = minGapMs;
  }

  /** Takes a snapshot unless one was taken less than `minGapMs` ago; never rejects. */
  sample(now: number): Promise<Recommendation[]> {
    if (this.#pending !== undefined) return this.#pending;
    if (now - this.#sampledAt < this.#minGapMs) return Promise.resolve(this.#latest);
    this.#sampledAt = now;
    this.#pending = this.#read()
      .then((inputs) => {
        this.#latest = this.#recommender.update(inputs);
        return this.#latest;
      })
      .catch((error: unknown) => {
        this.#log.warn(
          { err: (error as Error)?.message ?? String(error) },
          'alerts: reading the figures for recommendations failed',
        );
        return this.#latest;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }
}
