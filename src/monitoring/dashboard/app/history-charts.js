// The charts over a past range (1 h, 24 h, 7 d), or over the deployment: series read from
// GET <mount>/performance/history, per operation or figure, with `scope=cluster` for the deployment.
import { api, errorMessage } from './api.js';
import { $ } from './dom.js';
import { drawChart } from './series-chart.js';
import { LIVE_CLUSTER, RANGES, setScopeNotice, state } from './view-state.js';

/** Tier, namespace and queue names seen in the stream: the label values the charts ask for. */
const names = { tier: new Set(), namespace: new Set(), queue: new Set() };

/** Notes the label values of the latest snapshot (called by the live charts). */
export function noteNames(kind, values) {
  for (const value of values) names[kind].add(String(value));
}

/** A range's bounds and step, in the query's terms. */
function rangeQuery() {
  const range = RANGES[state.range] ?? LIVE_CLUSTER;
  const to = Date.now();
  // Two minutes inside the range, so its start is still within the minutes a store keeps.
  const from = to - range.spanMs + 120_000;
  return { from, to, step: range.step };
}

/** Thrown by a read that the whole refresh should report (no history, no cluster view). */
class Refused extends Error {}

/** One series of the history: its points, or null when the store has no such series. */
async function read(kind, name, labels, range) {
  const query = new URLSearchParams({
    [kind]: name,
    from: String(range.from),
    to: String(range.to),
    step: range.step,
  });
  if (labels) query.set('labels', JSON.stringify(labels));
  if (state.scope === 'cluster') query.set('scope', 'cluster');
  const response = await api(`/performance/history?${query}`, {
    headers: { accept: 'application/json' },
  });
  if (response.ok) return (await response.json()).points;
  const message = await errorMessage(response);
  // Nothing recorded under this name (yet): an empty series, not an error.
  if (
    response.status === 400 &&
    /operation|metric|labels/.test(message) &&
    !/scope/.test(message)
  ) {
    return null;
  }
  throw new Refused(message);
}

const at = (points) => points.map((p) => p.at / 1000);

/** The step's length in seconds, for counters turned into rates. */
const stepSeconds = (range) => ({ '1m': 60, '15m': 900, '1h': 3600 })[range.step] ?? 60;

/** Hit ratio per point from a hits and a misses series. */
function ratioSeries(hits, misses) {
  return hits.map((p, i) => {
    const h = p.sum ?? 0;
    const m = misses?.[i]?.sum ?? 0;
    return h + m === 0 ? null : h / (h + m);
  });
}

/** Builds one chart's series from the history; `t` from the first series answered. */
async function build(specs, range) {
  let t = [];
  const series = [];
  for (const spec of specs) {
    const values = await spec.values(range);
    if (values === null) continue;
    if (t.length === 0) t = values.t;
    series.push({ label: spec.label, unit: spec.unit, values: values.v });
  }
  return { t, series };
}

const operation = (name, label, unit, pick) => ({
  label,
  unit,
  values: async (range) => {
    const points = await read('operation', name, null, range);
    return points && { t: at(points), v: points.map(pick) };
  },
});
const metric = (name, labels, label, unit, pick) => ({
  label,
  unit,
  values: async (range) => {
    const points = await read('metric', name, labels, range);
    return points && { t: at(points), v: points.map((p) => pick(p, range)) };
  },
});
const mean = (p) => p.mean;
const perSecond = (p, range) => (p.samples > 0 ? p.sum / stepSeconds(range) : null);

/** A hit ratio line per label value of `label` (`tier` or `namespace`). */
const ratios = (figure, label) =>
  [...names[label]].sort().map((value) => ({
    label: value,
    unit: 'ratio',
    values: async (range) => {
      const [hits, misses] = await Promise.all([
        read('metric', `${figure}.hits`, { [label]: value }, range),
        read('metric', `${figure}.misses`, { [label]: value }, range),
      ]);
      const base = hits ?? misses;
      if (!base) return null;
      return { t: at(base), v: ratioSeries(hits ?? base.map(() => ({ sum: 0 })), misses) };
    },
  }));

const perQueue = (figure) =>
  [...names.queue].sort().map((queue) => metric(figure, { queue }, queue, 'count', mean));

/** What each chart shows over a range. */
const historyCharts = {
  'chart-rate': () => [operation('http.request', 'req/s', '/s', (p) => p.rate)],
  'chart-latency': () => [
    operation('http.request', 'p50', 'ms', (p) => p.p50),
    operation('http.request', 'p95', 'ms', (p) => p.p95),
    operation('http.request', 'p99', 'ms', (p) => p.p99),
  ],
  'chart-system': () => [
    metric('system.cpu.percent', null, 'CPU', '%', mean),
    metric('system.event_loop.delay_p99_ms', null, 'Loop delay p99', 'ms', mean),
  ],
  'chart-memory': () => [
    metric('system.memory.rss', null, 'RSS', 'bytes', mean),
    metric('system.memory.heap_used', null, 'Heap used', 'bytes', mean),
  ],
  'chart-cache-tiers': () => ratios('cache.tier', 'tier'),
  'chart-cache-namespaces': () => ratios('cache.namespace', 'namespace'),
  'chart-task-depth': () => perQueue('tasks.queue.waiting'),
  'chart-task-throughput': () => [
    metric('tasks.completed', null, 'completed/s', '/s', perSecond),
    metric('tasks.failed', null, 'failed/s', '/s', perSecond),
  ],
  'chart-task-dead': () => perQueue('tasks.queue.dead'),
};

let generation = 0;

/** Reads and draws the visible charts over the chosen range and scope. */
export async function refreshHistoryCharts() {
  const mine = ++generation;
  const range = rangeQuery();
  const visible = Object.entries(historyCharts).filter(([id]) => $(id)?.clientWidth > 0);
  try {
    const drawn = await Promise.all(
      visible.map(async ([id, specs]) => [id, await build(specs(), range)]),
    );
    if (mine !== generation) return;
    setScopeNotice('');
    for (const [id, data] of drawn) drawChart(id, data);
  } catch (error) {
    if (mine !== generation) return;
    setScopeNotice(error instanceof Refused ? error.message : String(error));
    for (const [id] of visible) drawChart(id, null);
  }
}
