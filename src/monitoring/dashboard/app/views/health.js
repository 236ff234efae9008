// The health view: system figures and the status of each component.
import { num, setText, syncTable } from '../dom.js';
import { asNamedList, fmtBytes, fmtMs, fmtPercent, fmtRatio } from '../format.js';

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
  syncTable(
    'components',
    'components-empty',
    asNamedList(snapshot.health?.components),
    (c) => c.name,
    (c) => [
      String(c.name),
      { kind: 'badge', status: c.status },
      c.critical ? 'yes' : 'no',
      num(fmtMs(c.latencyMs)),
      c.message ?? '',
    ],
  );
}
