// The charts of every view. Live (this instance): the stream's snapshots, the last HISTORY points
// kept in the page. Other ranges, or the cluster scope: the metrics history (history-charts.js).
import { asNamedList, isNumber, toEpochMs } from './format.js';
import { noteNames, refreshHistoryCharts } from './history-charts.js';
import { drawChart, palette, resetCharts } from './series-chart.js';
import { tabListeners } from './tabs.js';
import { chartsAreLive, stateListeners } from './view-state.js';

/** Points kept per chart: five minutes at the default one snapshot per second. */
const HISTORY = 300;

const t = [];
/** Fixed series by key, aligned with `t`. */
const fixed = {
  rate: [],
  p50: [],
  p95: [],
  p99: [],
  cpu: [],
  eld: [],
  rss: [],
  heap: [],
  completed: [],
  failed: [],
};
/** Series whose labels come from the data (tiers, namespaces, queues): chart -> label -> values. */
const keyed = { tiers: new Map(), namespaces: new Map(), depth: new Map(), dead: new Map() };
/** `system.sampledAt` of the last system point: the sampler may be slower than the stream. */
let lastSystemSample = null;
/** The previous snapshot's cache counters, to turn running totals into a ratio per interval. */
let previousCache = null;

/** Hit ratio of the hits and misses since the previous snapshot; null without a read. */
function intervalRatio(kind, name, item) {
  const before = previousCache?.[kind]?.get(name);
  if (!before || !isNumber(item.hits) || !isNumber(item.misses)) return null;
  const hits = item.hits - before.hits;
  const misses = item.misses - before.misses;
  return hits < 0 || misses < 0 || hits + misses === 0 ? null : hits / (hits + misses);
}

function pushKeyed(map, values) {
  for (const label of values.keys()) {
    if (!map.has(label)) map.set(label, new Array(t.length - 1).fill(null));
  }
  for (const [label, list] of map) {
    list.push(values.get(label) ?? null);
    if (list.length > HISTORY) list.shift();
  }
}

/** Appends a snapshot's figures to the chart series, keeping the last HISTORY points. */
export function pushHistory(snapshot) {
  const ms = toEpochMs(snapshot.time);
  const now = (Number.isFinite(ms) ? ms : Date.now()) / 1000;
  // A reconnect may replay the same snapshot time; keep the x axis strictly increasing.
  if (t.length > 0 && now <= t[t.length - 1]) return;
  const requests = snapshot.performance?.requests ?? {};
  const system = snapshot.system ?? {};
  // A system sample repeated by several snapshots is drawn once; the line spans the gaps.
  const freshSystem = system.sampledAt !== lastSystemSample;
  lastSystemSample = system.sampledAt;
  const sys = (value) => (freshSystem && isNumber(value) ? value : null);
  const throughput = snapshot.tasks?.enabled ? snapshot.tasks.throughput : null;
  const values = {
    rate: isNumber(requests.rate) ? requests.rate : null,
    p50: isNumber(requests.p50) ? requests.p50 : null,
    p95: isNumber(requests.p95) ? requests.p95 : null,
    p99: isNumber(requests.p99) ? requests.p99 : null,
    cpu: sys(system.cpu?.percent),
    eld: sys(system.eventLoop?.delayP99Ms),
    rss: sys(system.memory?.rss),
    heap: sys(system.memory?.heapUsed),
    completed: isNumber(throughput?.completedPerSecond) ? throughput.completedPerSecond : null,
    failed: isNumber(throughput?.failedPerSecond) ? throughput.failedPerSecond : null,
  };
  t.push(now);
  if (t.length > HISTORY) t.shift();
  for (const [key, value] of Object.entries(values)) {
    fixed[key].push(value);
    if (fixed[key].length > HISTORY) fixed[key].shift();
  }
  const cache = snapshot.cache?.enabled ? snapshot.cache : null;
  const tiers = asNamedList(cache?.tiers);
  const namespaces = asNamedList(cache?.namespaces);
  pushKeyed(keyed.tiers, new Map(tiers.map((x) => [x.name, intervalRatio('tiers', x.name, x)])));
  pushKeyed(
    keyed.namespaces,
    new Map(namespaces.map((x) => [x.name, intervalRatio('namespaces', x.name, x)])),
  );
  previousCache = cache && {
    tiers: new Map(tiers.map((x) => [x.name, x])),
    namespaces: new Map(namespaces.map((x) => [x.name, x])),
  };
  const queues = snapshot.tasks?.enabled ? asNamedList(snapshot.tasks.queues) : [];
  noteNames(
    'tier',
    tiers.map((x) => x.name),
  );
  noteNames(
    'namespace',
    namespaces.map((x) => x.name),
  );
  noteNames(
    'queue',
    queues.map((q) => q.name),
  );
  pushKeyed(
    keyed.depth,
    new Map(queues.map((q) => [q.name, isNumber(q.waiting) ? q.waiting : null])),
  );
  pushKeyed(keyed.dead, new Map(queues.map((q) => [q.name, isNumber(q.dead) ? q.dead : null])));
}

const line = (label, unit, values) => ({ label, unit, values });
const lines = (map, unit) => [...map].map(([label, values]) => line(label, unit, values));

/** What each chart shows live, from the kept snapshots. */
const liveCharts = {
  'chart-system': () => [line('CPU', '%', fixed.cpu), line('Loop delay p99', 'ms', fixed.eld)],
  'chart-memory': () => [line('RSS', 'bytes', fixed.rss), line('Heap used', 'bytes', fixed.heap)],
  'chart-rate': () => [line('req/s', '/s', fixed.rate)],
  'chart-latency': () => [
    line('p50', 'ms', fixed.p50),
    line('p95', 'ms', fixed.p95),
    line('p99', 'ms', fixed.p99),
  ],
  'chart-cache-tiers': () => lines(keyed.tiers, 'ratio'),
  'chart-cache-namespaces': () => lines(keyed.namespaces, 'ratio'),
  'chart-task-depth': () => lines(keyed.depth, 'count'),
  'chart-task-throughput': () => [
    line('completed/s', '/s', fixed.completed),
    line('failed/s', '/s', fixed.failed),
  ],
  'chart-task-dead': () => lines(keyed.dead, 'count'),
};

/** Draws the visible charts: from the kept snapshots when live, else from the history. */
export function renderCharts() {
  if (!chartsAreLive()) return;
  // No chart before the first snapshot: an empty time axis would start at 1970.
  if (t.length === 0) return;
  for (const [id, seriesOf] of Object.entries(liveCharts)) drawChart(id, { t, series: seriesOf() });
}

function redraw() {
  if (chartsAreLive()) renderCharts();
  else void refreshHistoryCharts();
}

/** Draws the charts of a view when it is shown, and again on resize, scheme and range changes. */
export function initCharts() {
  tabListeners.add(redraw);
  window.addEventListener('resize', redraw);
  stateListeners.add(() => {
    resetCharts();
    redraw();
  });
  // Colours come from CSS custom properties; a scheme switch redraws the charts with the new ones.
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    resetCharts();
    redraw();
  });
  // The history of other ranges moves on a minute at a time.
  setInterval(() => {
    if (!chartsAreLive()) void refreshHistoryCharts();
  }, 15_000);
}

/** Value scales start at zero so a small wobble does not look like a cliff. */
export const fromZero = { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] };

/**
 * uPlot options of a hand-made chart definition (`series(colours)`, `scales`, `axes`) at `width`,
 * in the page's colours: for charts whose data is not a plain time series (the security view's).
 */
export function chartOptions(def, width) {
  const c = palette();
  const colours = Object.fromEntries(c.series.map((colour, i) => [`s${i + 1}`, colour]));
  const axis = (extra) => ({
    stroke: c.text,
    grid: { stroke: c.grid, width: 1 },
    ticks: { stroke: c.grid, width: 1 },
    ...extra,
  });
  return {
    width,
    height: 220,
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true, range: (_u, min, max) => [Math.min(min, max - 30), max] },
      ...def.scales,
    },
    series: [{}, ...def.series({ text: c.text, grid: c.grid, ...colours })],
    axes: [axis({}), ...def.axes.map((extra) => axis(extra))],
  };
}
