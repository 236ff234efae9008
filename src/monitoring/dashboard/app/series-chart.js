// One chart drawer for every view: a time axis and up to two value scales (left and right), each
// series with its unit. Series may come and go (a new cache tier, queue or namespace): the chart is
// rebuilt when the labels change, else its data is replaced.
import { $ } from './dom.js';
import { fmtBytes, fmtMs, fmtNumber, fmtPercent, fmtRatio } from './format.js';

/** How each unit's values and ticks are written. */
const UNITS = {
  ms: (v) => fmtMs(v),
  '%': (v) => fmtPercent(v),
  ratio: (v) => fmtRatio(v),
  bytes: (v) => fmtBytes(v),
  count: (v) => fmtNumber(v),
  '/s': (v) => `${fmtNumber(v)}/s`,
};

/** The chart colours of the page's colour scheme (CSS custom properties). */
export function palette() {
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  return {
    text: read('--muted'),
    grid: read('--grid'),
    series: [1, 2, 3, 4, 5, 6].map((i) => read(`--series-${i}`)),
  };
}

/** Value scales start at zero so a small wobble does not look like a cliff; ratios end at 1. */
function scaleOf(unit) {
  if (unit === 'ratio') return { range: () => [0, 1] };
  return { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] };
}

/** uPlot options for `data` ({ t, series: [{ label, unit, values }] }) at `width`. */
function optionsOf(data, width) {
  const c = palette();
  const units = [...new Set(data.series.map((s) => s.unit))].slice(0, 2);
  const axis = (extra) => ({
    stroke: c.text,
    grid: { stroke: c.grid, width: 1 },
    ticks: { stroke: c.grid, width: 1 },
    ...extra,
  });
  const scales = {
    // At least 30 s wide, so the first points do not fill the chart with milliseconds.
    x: { time: true, range: (_u, min, max) => [Math.min(min, max - 30), max] },
  };
  for (const unit of units) scales[unit] = scaleOf(unit);
  return {
    width,
    height: 220,
    cursor: { drag: { x: false, y: false } },
    scales,
    series: [
      {},
      ...data.series.map((s, i) => {
        const colour = c.series[i % c.series.length];
        return {
          label: s.label,
          scale: units.includes(s.unit) ? s.unit : units[0],
          stroke: colour,
          ...(data.series.length === 1 ? { fill: `${colour}22` } : {}),
          width: 2,
          spanGaps: true,
          value: (_u, v) => (UNITS[s.unit] ?? fmtNumber)(v),
        };
      }),
    ],
    axes: [
      axis({}),
      ...units.map((unit, i) =>
        axis({
          scale: unit,
          ...(i === 1 ? { side: 1, grid: { show: false } } : {}),
          values: (_u, ticks) => ticks.map((v) => (UNITS[unit] ?? fmtNumber)(v)),
          size: 70,
        }),
      ),
    ],
  };
}

/** Live uPlot instances by container id, with the labels they were built for. */
const charts = new Map();

/**
 * Draws `data` in the container `id` when it is visible (a hidden view is drawn when shown).
 * An empty series list or time axis shows the container's empty message instead.
 */
export function drawChart(id, data) {
  const container = $(id);
  if (!container || typeof window.uPlot !== 'function') return;
  const empty = !data || data.t.length === 0 || data.series.length === 0;
  container.dataset.empty = String(empty);
  const width = container.clientWidth;
  if (width === 0) return;
  const key = empty ? '' : data.series.map((s) => `${s.label}\u0000${s.unit}`).join('\u0001');
  let entry = charts.get(id);
  if (entry && (entry.key !== key || empty)) {
    entry.chart.destroy();
    charts.delete(id);
    entry = undefined;
  }
  if (empty) return;
  const aligned = [data.t, ...data.series.map((s) => s.values)];
  if (!entry) {
    charts.set(id, { key, chart: new window.uPlot(optionsOf(data, width), aligned, container) });
    return;
  }
  if (Math.abs(entry.chart.width - width) > 1) entry.chart.setSize({ width, height: 220 });
  entry.chart.setData(aligned);
}

/** Forgets every chart (a colour scheme change redraws them with the new colours). */
export function resetCharts() {
  for (const { chart } of charts.values()) chart.destroy();
  charts.clear();
}
