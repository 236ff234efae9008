// The performance view: request figures and the table of instrumented operations.
import { num, setText, syncTable } from '../dom.js';
import {
  asNamedList,
  fmtInteger,
  fmtLabels,
  fmtMs,
  fmtNumber,
  fmtRatio,
  isNumber,
} from '../format.js';
import { tablesShowCluster } from './cluster.js';

/** Renders the performance section of a snapshot. */
export function renderPerformance(snapshot) {
  const requests = snapshot.performance?.requests ?? {};
  setText('req-rate', fmtNumber(requests.rate));
  setText('req-p50', fmtMs(requests.p50));
  setText('req-p95', fmtMs(requests.p95));
  setText('req-p99', fmtMs(requests.p99));
  setText('req-errors', fmtInteger(requests.errors));
  setText(
    'req-errors-hint',
    isNumber(requests.count)
      ? `${fmtRatio(requests.errorRate)} of ${fmtInteger(requests.count)} in the last minute`
      : '',
  );
  // With the cluster scope the table shows the deployment (views/cluster.js).
  if (tablesShowCluster()) return;
  syncTable(
    'operations',
    'operations-empty',
    asNamedList(snapshot.performance?.operations),
    (op) => `${op.name} ${fmtLabels(op.labels)}`,
    (op) => [
      { kind: 'code', text: String(op.name) },
      fmtLabels(op.labels),
      num(fmtInteger(op.count)),
      num(fmtInteger(op.errors)),
      num(fmtMs(op.p50)),
      num(fmtMs(op.p95)),
      num(fmtMs(op.p99)),
      num(fmtMs(op.max)),
    ],
  );
}
