// The live charts (uPlot): the history of the stream's snapshots, drawn once their view is visible.
import { $ } from './dom.js';
import { fmtMs, fmtNumber, fmtPercent, isNumber, toEpochMs } from './format.js';
import { tabListeners } from './tabs.js';

/** Points kept per chart: five minutes at the default one snapshot per second. */
const HISTORY = 300;

const series = { t: [], rate: [], p50: [], p95: [], p99: [], cpu: [], eld: [] };
/** `system.sampledAt` of the last system point: the sampler may be slower than the stream. */
let lastSystemSample = null;

/** Appends a snapshot's figures to the chart series, keeping the last HISTORY points. */
export function pushHistory(snapshot) {
  const ms = toEpochMs(snapshot.time);
  const t = (Number.isFinite(ms) ? ms : Date.now()) / 1000;
  const requests = snapshot.performance?.requests ?? {};
  const system = snapshot.system ?? {};
  const last = series.t.length - 1;
  // A reconnect may replay the same snapshot time; keep the x axis strictly increasing.
  if (last >= 0 && t <= series.t[last]) return;
  // A system sample repeated by several snapshots is drawn once; the line spans the gaps.
  const freshSystem = system.sampledAt !== lastSystemSample;
  lastSystemSample = system.sampledAt;
  const values = {
    t,
    rate: isNumber(requests.rate) ? requests.rate : null,
    p50: isNumber(requests.p50) ? requests.p50 : null,
    p95: isNumber(requests.p95) ? requests.p95 : null,
    p99: isNumber(requests.p99) ? requests.p99 : null,
    cpu: freshSystem && isNumber(system.cpu?.percent) ? system.cpu.percent : null,
    eld: freshSystem && isNumber(system.eventLoop?.delayP99Ms) ? system.eventLoop.delayP99Ms : null,
  };
  for (const [key, value] of Object.entries(values)) {
    series[key].push(value);
    if (series[key].length > HISTORY) series[key].shift();
  }
}

/** The chart colours of the page's colour scheme (CSS custom properties). */
export function palette() {
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  return {
    text: read('--muted'),
    grid: read('--grid'),
    s1: read('--series-1'),
    s2: read('--series-2'),
    s3: read('--series-3'),
    s4: read('--series-4'),
    s5: read('--series-5'),
    s6: read('--series-6'),
  };
}

/** Value scales start at zero so a small wobble does not look like a cliff. */
export const fromZero = { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] };

const chartDefs = {
  'chart-rate': {
    data: () => [series.t, series.rate],
    series: (c) => [
      {
        label: 'req/s',
        stroke: c.s1,
        fill: `${c.s1}22`,
        width: 2,
        value: (_u, v) => fmtNumber(v),
      },
    ],
    scales: { y: fromZero },
    axes: [{ values: (_u, ticks) => ticks.map((v) => fmtNumber(v)), size: 60 }],
  },
  'chart-latency': {
    data: () => [series.t, series.p50, series.p95, series.p99],
    series: (c) => [
      { label: 'p50', stroke: c.s1, width: 2, value: (_u, v) => fmtMs(v) },
      { label: 'p95', stroke: c.s2, width: 2, value: (_u, v) => fmtMs(v) },
      { label: 'p99', stroke: c.s3, width: 2, value: (_u, v) => fmtMs(v) },
    ],
    scales: { y: fromZero },
    axes: [{ values: (_u, ticks) => ticks.map((v) => fmtMs(v)), size: 70 }],
  },
  'chart-system': {
    data: () => [series.t, series.cpu, series.eld],
    series: (c) => [
      {
        label: 'CPU',
        scale: '%',
        stroke: c.s1,
        width: 2,
        spanGaps: true,
        value: (_u, v) => fmtPercent(v),
      },
      {
        label: 'Loop delay p99',
        scale: 'ms',
        stroke: c.s2,
        width: 2,
        spanGaps: true,
        value: (_u, v) => fmtMs(v),
      },
    ],
    scales: { '%': fromZero, ms: fromZero },
    axes: [
      { scale: '%', values: (_u, ticks) => ticks.map((v) => `${fmtNumber(v)} %`), size: 60 },
      {
        scale: 'ms',
        side: 1,
        grid: { show: false },
        values: (_u, ticks) => ticks.map((v) => fmtMs(v)),
        size: 70,
      },
    ],
  },
};

/** Live uPlot instances by container id, created when their view is first visible. */
const charts = new Map();

/** uPlot options of a chart definition (`series(colours)`, `scales`, `axes`) at `width`. */
export function chartOptions(def, width) {
  const c = palette();
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
      // At least 30 s wide, so the first points do not fill the chart with milliseconds.
      x: { time: true, range: (_u, min, max) => [Math.min(min, max - 30), max] },
      ...def.scales,
    },
    series: [{}, ...def.series(c)],
    axes: [axis({}), ...def.axes.map((extra) => axis(extra))],
  };
}

/** Creates or updates the charts whose container is visible. */
export function renderCharts() {
  // No chart before the first snapshot: an empty time axis would start at 1970.
  if (typeof window.uPlot !== 'function' || series.t.length === 0) return;
  for (const [id, def] of Object.entries(chartDefs)) {
    const container = $(id);
    const width = container.clientWidth;
    if (width === 0) continue; // In a hidden view; drawn when shown.
    let chart = charts.get(id);
    if (!chart) {
      chart = new window.uPlot(chartOptions(def, width), def.data(), container);
      charts.set(id, chart);
    } else {
      if (Math.abs(chart.width - width) > 1) chart.setSize({ width, height: 220 });
      chart.setData(def.data());
    }
  }
}

function resetCharts() {
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
  renderCharts();
}

/** Draws the charts of a view when it is shown, and again on resize and colour scheme changes. */
export function initCharts() {
  tabListeners.add(() => renderCharts());
  window.addEventListener('resize', () => renderCharts());
  // Colours come from CSS custom properties; a scheme switch redraws the charts with the new ones.
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', resetCharts);
}
