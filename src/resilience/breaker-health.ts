import type { BreakerSnapshot } from './breaker-types.js';
import type { HealthComponent, HealthProbeContext } from './health-types.js';

/**
 * @internal One health component per breaker, `breaker:<name>`: `ok` while closed, `degraded`
 * while open or half-open. Figures only, so no latency. `more` adds what the registry knows of a
 * breaker (its openings).
 */
export function breakerComponents(
  context: HealthProbeContext,
  breakers: readonly BreakerSnapshot[],
  more: (name: string) => Record<string, unknown> = () => ({}),
): HealthComponent[] {
  return breakers.map((b) => {
    const details = {
      ...more(b.name),
      source: 'circuit-breaker',
      breaker: b.name,
      state: b.state,
      isolated: b.isolated,
      counts: b.counts,
      consecutiveFailures: b.consecutiveFailures,
      errorRate: b.window?.errorRate ?? null,
      retryAt: b.retryAt,
      lastChange: b.lastChange,
    };
    if (b.state === 'closed') {
      return context.component(`breaker:${b.name}`, 'ok', null, undefined, details);
    }
    const message = b.isolated
      ? 'circuit isolated'
      : b.state === 'half-open'
        ? 'circuit half-open: a trial call is running'
        : `circuit open (${b.lastChange?.reason ?? 'opened'})${b.retryAt === null ? '' : `, next trial after ${b.retryAt}`}`;
    return context.component(`breaker:${b.name}`, 'degraded', null, message, details);
  });
}
