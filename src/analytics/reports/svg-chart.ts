// A line chart as inline SVG: no script, no external reference, fixed colours, readable where
// scripts and remote content are blocked (mail clients, a file opened offline).
import type { ReportChart } from './types.js';

const WIDTH = 680;
const HEIGHT = 240;
const MARGIN = { top: 16, right: 16, bottom: 28, left: 64 };
/** Distinct on white and for the common colour-vision deficiencies (Okabe and Ito's palette). */
export const CHART_COLOURS = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#D55E00',
  '#56B4E9',
  '#000000',
];

/** @internal Text made safe for HTML and SVG content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Round numbers for axis ticks: 1, 2 or 5 times a power of ten. */
function niceTicks(min: number, max: number, count: number): number[] {
  if (min === max) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.floor(min / step) * step; t <= max + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  if (ticks.at(-1)! < max) ticks.push(Number((ticks.at(-1)! + step).toPrecision(12)));
  return ticks;
}

const compact = (value: number) => {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${Number((value / 1e9).toPrecision(3))}G`;
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(Number(value.toPrecision(4)));
};

function timeLabel(at: number, spanMs: number): string {
  const iso = new Date(at).toISOString();
  return spanMs > 2 * 86_400_000
    ? iso.slice(5, 10)
    : spanMs > 86_400_000
      ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}`
      : iso.slice(11, 16);
}

/**
 * @internal The chart as an `<svg>` element with a legend below it; a chart without any value is
 * a line of text saying so.
 */
export function svgChart(chart: ReportChart): string {
  const points = chart.series.flatMap((s) =>
    s.points.filter((p): p is [number, number] => p[1] !== null),
  );
  if (points.length === 0) return '<p class="empty">No data in this range.</p>';
  const times = points.map(([t]) => t);
  const values = points.map(([, v]) => v);
  if (chart.threshold !== undefined) values.push(chart.threshold.value);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + 1);
  const ticks = niceTicks(Math.min(0, ...values), Math.max(...values), 4);
  const v0 = ticks[0]!;
  const v1 = ticks.at(-1)!;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (t: number) => (MARGIN.left + ((t - t0) / (t1 - t0)) * plotW).toFixed(1);
  const y = (v: number) => (MARGIN.top + plotH - ((v - v0) / (v1 - v0 || 1)) * plotH).toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(chart.title)}" style="max-width:100%;height:auto;font-family:Arial,Helvetica,sans-serif;font-size:11px">`,
    `<title>${escapeHtml(chart.title)}</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
  ];
  for (const tick of ticks) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e5e5e5" stroke-width="1"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(tick)}" text-anchor="end" dominant-baseline="middle" fill="#555555">${escapeHtml(compact(tick))}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    const anchor = i === 0 ? 'start' : i === 4 ? 'end' : 'middle';
    parts.push(
      `<text x="${x(t)}" y="${HEIGHT - 8}" text-anchor="${anchor}" fill="#555555">${timeLabel(t, t1 - t0)}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(v0)}" y2="${y(v0)}" stroke="#999999" stroke-width="1"/>`,
  );
  if (chart.threshold !== undefined) {
    const ty = y(chart.threshold.value);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ty}" y2="${ty}" stroke="#D55E00" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      `<text x="${WIDTH - MARGIN.right}" y="${Number(ty) - 4}" text-anchor="end" fill="#D55E00">${escapeHtml(chart.threshold.label)}</text>`,
    );
  }
  chart.series.forEach((series, i) => {
    const colour = CHART_COLOURS[i % CHART_COLOURS.length]!;
    let d = '';
    let pen = false;
    for (const [t, v] of series.points) {
      if (v === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(t)} ${y(v)}`;
      pen = true;
    }
    if (d === '') return;
    const dashed = /forecast|bound/i.test(series.name) ? ' stroke-dasharray="4 3"' : '';
    parts.push(
      `<path class="series" d="${d}" fill="none" stroke="${colour}" stroke-width="2" stroke-linejoin="round"${dashed}><title>${escapeHtml(series.name)}</title></path>`,
    );
    // A lone point has no segment to draw: mark it.
    if (!d.includes('L')) {
      const [mx, my] = d.slice(1).split(' ');
      parts.push(`<circle cx="${mx}" cy="${my}" r="3" fill="${colour}"/>`);
    }
  });
  parts.push('</svg>');
  const legend = chart.series
    .map(
      (s, i) =>
        `<span style="display:inline-block;margin-right:14px;white-space:nowrap"><span style="display:inline-block;width:12px;height:3px;vertical-align:middle;background:${CHART_COLOURS[i % CHART_COLOURS.length]}"></span> ${escapeHtml(s.name)}</span>`,
    )
    .join('');
  return `${parts.join('')}<div class="legend" style="font-size:12px;color:#333333;margin:4px 0 0 ${MARGIN.left}px">${legend}</div>`;
}
