// The cluster scope: the instances alive, and the operations and cache figures of the whole
// deployment, read from the `scope=cluster` summaries every few seconds while the scope is chosen.
import { api, errorMessage } from '../api.js';
import { $, num, setText, syncTable } from '../dom.js';
import { fmtInteger, fmtLabels, fmtMs, fmtRatio, fmtTime } from '../format.js';
import { setScopeNotice, state, stateListeners } from '../view-state.js';

const REFRESH_MS = 5_000;
let timer = null;

async function get(path) {
  const response = await api(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(await errorMessage(response));
  return response.json();
}

function renderInstances(summary) {
  setText('cluster-count', fmtInteger(summary.instances.length));
  syncTable(
    'cluster-instances',
    null,
    summary.instances,
    (i) => i.id,
    (i, row) => {
      // This instance answers first.
      row.dataset.self = String(i === summary.instances[0]);
      return [
        { kind: 'code', text: String(i.id) },
        String(i.host),
        num(fmtInteger(i.pid)),
        fmtTime(i.startedAt),
        fmtTime(i.lastSeenAt),
      ];
    },
  );
}

function renderOperations(summary) {
  const operations = [...summary.operations].sort(
    (a, b) => (b.windows['1m'].p95 ?? -1) - (a.windows['1m'].p95 ?? -1),
  );
  syncTable(
    'operations',
    'operations-empty',
    operations.slice(0, 50),
    (op) => `${op.name} ${fmtLabels(op.labels)}`,
    (op) => {
      const w = op.windows['1m'];
      return [
        { kind: 'code', text: String(op.name) },
        `${fmtLabels(op.labels)} (${op.instances.length} inst.)`.trim(),
        num(fmtInteger(w.count)),
        num(fmtInteger(w.errors)),
        num(fmtMs(w.p50)),
        num(fmtMs(w.p95)),
        num(fmtMs(w.p99)),
        num(fmtMs(w.max)),
      ];
    },
  );
}

function renderCacheFigures(cache) {
  $('cache-disabled').hidden = cache.enabled;
  $('cache-content').hidden = !cache.enabled;
  setText('cache-ratio', fmtRatio(cache.hitRatio));
  setText(
    'cache-counts',
    `${fmtInteger(cache.hits)} hits · ${fmtInteger(cache.misses)} misses · ${cache.byInstance.length} instances`,
  );
  const ratio = (x) => (x.hits + x.misses === 0 ? null : x.hits / (x.hits + x.misses));
  syncTable(
    'cache-tiers',
    null,
    cache.tiers,
    (tier) => tier.name,
    (tier) => [
      String(tier.name),
      { kind: 'ratio', ratio: ratio(tier) },
      num(fmtInteger(tier.hits)),
      num(fmtInteger(tier.misses)),
      num(fmtInteger(tier.errors)),
      num('–'),
      num('–'),
      '–',
    ],
  );
  syncTable(
    'cache-namespaces',
    'cache-namespaces-empty',
    Object.entries(cache.namespaces).map(([name, ns]) => ({ name, ...ns })),
    (ns) => ns.name,
    (ns) => [
      String(ns.name),
      { kind: 'ratio', ratio: ratio(ns) },
      num(fmtInteger(ns.hits)),
      num(fmtInteger(ns.misses)),
      num('–'),
      num(fmtInteger(ns.loaderErrors)),
    ],
  );
}

async function refresh() {
  if (state.scope !== 'cluster') return;
  try {
    const [summary, cache] = await Promise.all([
      get('/performance/summary?scope=cluster'),
      get('/cache/analytics?scope=cluster'),
    ]);
    if (state.scope !== 'cluster') return;
    $('cluster-panel').hidden = false;
    renderInstances(summary);
    renderOperations(summary);
    renderCacheFigures(cache);
  } catch (error) {
    if (state.scope !== 'cluster') return;
    $('cluster-panel').hidden = true;
    setScopeNotice(error instanceof Error ? error.message : String(error));
  }
}

/** Whether the views' tables show the deployment (the stream then leaves them alone). */
export function tablesShowCluster() {
  return state.scope === 'cluster';
}

/** Follows the scope switch: polls the cluster summaries while `cluster` is chosen. */
export function initClusterView() {
  stateListeners.add(() => {
    if (state.scope === 'cluster' && timer === null) {
      void refresh();
      timer = setInterval(() => void refresh(), REFRESH_MS);
    } else if (state.scope !== 'cluster' && timer !== null) {
      clearInterval(timer);
      timer = null;
      $('cluster-panel').hidden = true;
      setScopeNotice('');
    }
  });
}
