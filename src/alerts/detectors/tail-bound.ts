// How far a series' own noise reaches, learned from its normal samples, so that noise with heavier
// tails than Gaussian does not fire. Peaks over a threshold, as in SPOT (Siffer et al., KDD 2017):
// the scores beyond PEAK spreads are modelled by a generalised Pareto tail, whose shape comes from
// the log-moments of the peaks (the moment estimator of Dekkers, Einmahl and de Haan, 1989).

/** Scores (in spreads) beyond this are peaks; about 13% of Gaussian noise, 15% of Laplace noise. */
const PEAK = 1.5;
/** How often Gaussian noise lies 5 standard deviations out, either side: erfc(5 / √2). */
const REFERENCE_RATE = 5.733031437583878e-7;
/** The Gaussian score at that rate: the tail factor is the learned score there over this. */
const REFERENCE_SCORE = 5;
/** The statistics average over about this many recent normal samples. */
const MEMORY = 1_000;
/**
 * Until the series has shown its own tail, it is assumed to be Laplace-like (exponential tails,
 * heavier than Gaussian), worth this many samples: a new detector starts cautious and tightens.
 */
const PRIOR_WEIGHT = 20;
/** The learned shape counts in proportion n / (n + SHAPE_EVIDENCE): a few large peaks early on
 * would otherwise extrapolate into a bar far out. */
const SHAPE_EVIDENCE = 200;
/** Laplace noise in spreads beyond PEAK: its peak rate, mean excess and two log-moments. */
const PRIOR = { rate: 0.152636, excess: 0.798, log1: 0.378859, log2: 0.230217 };
/** The bar never grows beyond this many times the sensitivity: a detector stays able to fire. */
const MAX_FACTOR = 25;
/** Shapes above this are not trusted: the extrapolation would run away on a few large peaks. */
const MAX_SHAPE = 0.45;

/**
 * The tail model of one anomaly detector: five numbers. `factor` multiplies the sensitivity: 1
 * for noise no heavier-tailed than the model's exponential floor, more where the series' scores
 * reach further at the rate Gaussian noise reaches 4 spreads.
 *
 * @example
 * ```ts
 * const tail = new TailBound();
 * tail.observe(Math.abs(score)); // normal samples only
 * const bar = sensitivity * tail.factor;
 * ```
 */
export class TailBound {
  #count = PRIOR_WEIGHT;
  #rate = PRIOR.rate;
  #excess = PRIOR.rate * PRIOR.excess;
  #log1 = PRIOR.rate * PRIOR.log1;
  #log2 = PRIOR.rate * PRIOR.log2;
  #factor = 1;
  /** Observations since the factor was last computed. */
  #pending = 0;

  constructor() {
    this.#factor = this.#compute();
  }

  /** The multiplier of the sensitivity, at least 1. */
  get factor(): number {
    return this.#factor;
  }

  /** Learns from the absolute score of a sample judged normal; the factor follows every 16. */
  observe(score: number): void {
    const a = this.#count < MEMORY ? 1 / ++this.#count : 1 / MEMORY;
    if (score > PEAK) {
      const log = Math.log(score / PEAK);
      this.#rate += a * (1 - this.#rate);
      this.#excess += a * (score - PEAK - this.#excess);
      this.#log1 += a * (log - this.#log1);
      this.#log2 += a * (log * log - this.#log2);
    } else {
      const keep = 1 - a;
      this.#rate *= keep;
      this.#excess *= keep;
      this.#log1 *= keep;
      this.#log2 *= keep;
    }
    if (++this.#pending === 16) {
      this.#pending = 0;
      this.#factor = this.#compute();
    }
  }

  #compute(): number {
    const rate = this.#rate;
    if (rate <= REFERENCE_RATE) return 1;
    const m1 = this.#log1 / rate;
    const m2 = this.#log2 / rate;
    const spread = 1 - (m1 * m1) / m2;
    let shape = spread > 1e-9 ? m1 + 1 - 0.5 / spread : 0;
    shape *= this.#count / (this.#count + SHAPE_EVIDENCE);
    if (!(shape > 0)) shape = 0;
    else if (shape > MAX_SHAPE) shape = MAX_SHAPE;
    const scale = (this.#excess / rate) * (1 - shape);
    const ratio = rate / REFERENCE_RATE;
    const reach =
      shape < 1e-6 ? PEAK + scale * Math.log(ratio) : PEAK + (scale / shape) * (ratio ** shape - 1);
    return reach > REFERENCE_SCORE ? Math.min(reach / REFERENCE_SCORE, MAX_FACTOR) : 1;
  }
}
