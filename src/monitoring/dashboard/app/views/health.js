// The health view: system figures, the status of each component, and the circuit breakers.
import { num, setText, syncTable } from '../dom.js';
import {
  asNamedList,
  fmtBytes,
  fmtDateTime,
  fmtInteger,
  fmtMs,
  fmtPercent,
  fmtRatio,
} from '../format.js';

const TONE = { closed: 'ok', 'half-open': 'degraded', open: 'down' };

/** Renders the system and health sections of a snapshot. */
export function renderHealth(snapshot) {
  const system = snapshot.system ?? {};
  setText('cpu', fmtPercent(system.cpu?.percent));
  setText('memory-rss', fmtBytes(system.memory?.rss));
  setText(
    'memory-heap',
    `heap ${fmtBytes(system.memory?.heapUsed)} of ${fmtBytes(system.memory?.heapTotal)}`,
  );
  setText('eld-p99', fmtMs(system.eventLoop?.delayP99Ms));
  setText(
    'eld-detail',
    `p50 ${fmtMs(system.eventLoop?.delayP50Ms)} · max ${fmtMs(system.eventLoop?.delayMaxMs)}`,
  );
  setText('elu', fmtRatio(system.eventLoop?.utilization));
  const all = asNamedList(snapshot.health?.components);
  const isBreaker = (c) => c.details?.source === 'circuit-breaker';
  syncTable(
    'components',
    'components-empty',
    all.filter((c) => !isBreaker(c)),
    (c) => c.name,
    (c) => [
      String(c.name),
      { kind: 'badge', status: c.status },
      c.critical ? 'yes' : 'no',
      num(fmtMs(c.latencyMs)),
      c.message ?? '',
    ],
  );
  // Each breaker is a health component (`breaker:<name>`) whose details carry its figures.
  syncTable(
    'breakers',
    'breakers-empty',
    all.filter(isBreaker).map((c) => c.details),
    (b) => b.breaker,
    (b) => [
      String(b.breaker),
      { kind: 'badge', status: b.isolated ? 'isolated' : b.state, tone: TONE[b.state] },
      num(fmtInteger((b.counts?.failure ?? 0) + (b.counts?.timeout ?? 0))),
      num(fmtInteger(b.consecutiveFailures)),
      num(fmtRatio(b.errorRate)),
      num(fmtInteger(b.opens)),
      b.lastOpenedAt ? fmtDateTime(b.lastOpenedAt) : 'never',
      b.state === 'open' && b.retryAt
        ? `${b.lastChange?.reason ?? 'opened'}; next trial ${fmtDateTime(b.retryAt)}`
        : (b.lastChange?.reason ?? ''),
    ],
  );
}
