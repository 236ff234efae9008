import type { ValueSource } from '../types.js';

/** One circuit breaker as {@link breakerSources} reads it. */
export interface BreakerReading {
  name: string;
  state: 'closed' | 'half-open' | 'open';
  /** How many times it opened so far (any count that only grows). */
  opens: number;
}

/**
 * What {@link breakerSources} reads: the circuit breakers of the process. The composition root
 * wires the process breaker registry; the alerts module knows nothing of it.
 */
export interface BreakerStateReader {
  list(): readonly BreakerReading[];
}

const RANK = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * The value source of the circuit breakers: `circuit.state`, one series per breaker (labels
 * `{ breaker }`), 0 closed, 1 half-open, 2 open. A breaker that opened since the previous read
 * reads 2 even if it has closed again meanwhile, so an opening shorter than the evaluation
 * interval still raises its alert once.
 *
 * @example
 * ```ts
 * const registry = defaultBreakerRegistry();
 * const [state] = breakerSources({
 *   list: () => registry.list().map((b) => ({ name: b.name, state: b.state, opens: registry.opens(b.name) })),
 * });
 * ```
 */
export function breakerSources(reader: BreakerStateReader): ValueSource[] {
  const seen = new Map<string, number>();
  return [
    {
      name: 'circuit.state',
      description:
        'State of each circuit breaker: 0 closed, 1 half-open, 2 open (or opened since the last read)',
      read: () => {
        const readings = reader.list();
        const present = new Set<string>();
        const series = readings.map((breaker) => {
          present.add(breaker.name);
          const before = seen.get(breaker.name);
          seen.set(breaker.name, breaker.opens);
          const reopened = before !== undefined && breaker.opens > before;
          return { labels: { breaker: breaker.name }, value: reopened ? 2 : RANK[breaker.state] };
        });
        for (const name of seen.keys()) if (!present.has(name)) seen.delete(name);
        return series;
      },
    },
  ];
}
