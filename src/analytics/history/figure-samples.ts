import type { HistoryFigure } from './figures.js';
import { canonicalLabels } from './series-key.js';
import type { MetricRollup } from './types.js';

/**
 * @internal The samples of the figures during the open minute: gauges as sampled, counters as
 * their increase since the previous sample (a counter that went down was reset: its value is the
 * increase). The first sample of a counter only sets its starting point.
 */
export class FigureSamples {
  #minute = new Map<string, MetricRollup>();
  readonly #counters = new Map<string, number>();

  /** Adds one sample of each figure; invalid ones (no name, a value that is not finite) are skipped. */
  add(figures: readonly HistoryFigure[]): void {
    for (const figure of figures) {
      if (typeof figure?.metric !== 'string' || figure.metric.length === 0) continue;
      if (typeof figure.value !== 'number' || !Number.isFinite(figure.value)) continue;
      const labels = stringLabels(figure.labels);
      const key = `${figure.metric}\u0000${canonicalLabels(labels)}`;
      let value = figure.value;
      if (figure.kind === 'counter') {
        const previous = this.#counters.get(key);
        this.#counters.set(key, value);
        if (previous === undefined) continue;
        value = value >= previous ? value - previous : value;
      }
      const rollup = this.#minute.get(key);
      if (rollup === undefined) {
        this.#minute.set(key, {
          name: figure.metric,
          labels,
          samples: 1,
          sum: value,
          min: value,
          max: value,
        });
      } else {
        rollup.samples++;
        rollup.sum += value;
        if (value < rollup.min) rollup.min = value;
        if (value > rollup.max) rollup.max = value;
      }
    }
  }

  /** The open minute's rollups; the next minute starts empty. */
  take(): MetricRollup[] {
    const rollups = [...this.#minute.values()];
    this.#minute = new Map();
    return rollups;
  }
}

function stringLabels(
  labels: Readonly<Record<string, unknown>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (labels === undefined || labels === null || typeof labels !== 'object') return out;
  for (const [name, value] of Object.entries(labels)) {
    if (value !== undefined && value !== null) out[name] = String(value);
  }
  return out;
}
