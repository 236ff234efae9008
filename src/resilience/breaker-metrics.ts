import type { MetricFamily } from '../performance/prometheus.js';
import type { BreakerCounts, BreakerSnapshot, BreakerState } from './breaker-types.js';

/** The gauge value of each state: worse is higher, so `> 0` means "not closed". */
const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

const OUTCOMES: readonly (keyof BreakerCounts)[] = [
  'success',
  'failure',
  'timeout',
  'rejected',
  'ignored',
  'fallback',
];

/**
 * @internal The breakers' figures as Prometheus families. With no breaker the families come out
 * empty, so their names are known up front.
 */
export function breakerMetricFamilies(
  prefix: string,
  breakers: readonly BreakerSnapshot[],
  opens: ReadonlyMap<string, number>,
): MetricFamily[] {
  const state = `${prefix}circuit_state`;
  const calls = `${prefix}circuit_calls_total`;
  const opened = `${prefix}circuit_opens_total`;
  return [
    {
      name: state,
      help: 'State of each circuit breaker: 0 closed, 1 half-open, 2 open.',
      type: 'gauge',
      samples: breakers.map((b) => ({
        name: state,
        labels: { breaker: b.name },
        value: STATE_VALUE[b.state],
      })),
    },
    {
      name: calls,
      help: 'Calls through each circuit breaker by outcome (fallback counts calls a fallback answered, also counted by their first outcome).',
      type: 'counter',
      samples: breakers.flatMap((b) =>
        OUTCOMES.map((outcome) => ({
          name: calls,
          labels: { breaker: b.name, outcome },
          value: b.counts[outcome],
        })),
      ),
    },
    {
      name: opened,
      help: 'Times each circuit breaker opened.',
      type: 'counter',
      samples: breakers.map((b) => ({
        name: opened,
        labels: { breaker: b.name },
        value: opens.get(b.name) ?? 0,
      })),
    },
  ];
}
