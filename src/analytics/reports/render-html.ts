// The HTML format: one self-contained page, no script, no external resource, CSS in the page and
// on the elements a mail client styles from attributes, charts as inline SVG.
import { escapeHtml, svgChart } from './svg-chart.js';
import type { GeneratedSection, ReportData, ReportValue } from './types.js';

const STYLE = `
body{margin:0;padding:24px;background:#f6f7f9;color:#1f2328;font:14px/1.45 Arial,Helvetica,sans-serif}
main{max-width:760px;margin:0 auto;background:#ffffff;padding:24px;border:1px solid #d8dee4}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d8dee4;padding-bottom:4px}
h3{font-size:14px;margin:16px 0 6px}.range{color:#57606a;margin:0 0 16px}
table{border-collapse:collapse;width:100%;margin:4px 0 12px;font-size:13px}
th,td{border:1px solid #d8dee4;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0f3f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.figures td{border:none;padding:2px 16px 2px 0}.figure{font-size:18px;font-weight:bold}
.note{color:#57606a;font-size:12px}.error{color:#b42318}.empty{color:#57606a}
@media print{body{background:#ffffff;padding:0}main{border:none}}
`;

const cellOf = (value: ReportValue): string =>
  value === null
    ? '<td>-</td>'
    : typeof value === 'number'
      ? `<td class="n" style="text-align:right">${value}</td>`
      : `<td>${escapeHtml(String(value))}</td>`;

function sectionHtml(section: GeneratedSection): string {
  const out: string[] = [
    `<section id="section-${escapeHtml(section.name)}">`,
    `<h2>${escapeHtml(section.title)}</h2>`,
  ];
  if (section.error !== undefined)
    out.push(
      `<p class="error" style="color:#b42318">This section failed: ${escapeHtml(section.error)}</p>`,
    );
  if (section.summary !== undefined) out.push(`<p>${escapeHtml(section.summary)}</p>`);
  if (section.figures !== undefined && section.figures.length > 0) {
    out.push(
      '<table class="figures" style="width:auto;border:none"><tr>',
      ...section.figures.map(
        (f) =>
          `<td style="border:none;padding:2px 16px 2px 0"><div class="figure" style="font-size:18px;font-weight:bold">${escapeHtml(f.value === null ? '-' : String(f.value))}${f.unit === undefined ? '' : ` <small>${escapeHtml(f.unit)}</small>`}</div><div class="note" style="color:#57606a;font-size:12px">${escapeHtml(f.label)}</div></td>`,
      ),
      '</tr></table>',
    );
  }
  for (const chart of section.charts ?? []) {
    out.push(`<h3>${escapeHtml(chart.title)}</h3>`, `<div class="chart">${svgChart(chart)}</div>`);
  }
  for (const table of section.tables ?? []) {
    if (table.title !== '') out.push(`<h3>${escapeHtml(table.title)}</h3>`);
    if (table.rows.length === 0) {
      out.push('<p class="empty">None.</p>');
      continue;
    }
    out.push(
      '<table style="border-collapse:collapse;width:100%">',
      `<thead><tr>${table.columns.map((c) => `<th style="background:#f0f3f6;text-align:left">${escapeHtml(c)}</th>`).join('')}</tr></thead>`,
      '<tbody>',
      ...table.rows.map((row) => `<tr>${row.map(cellOf).join('')}</tr>`),
      '</tbody></table>',
    );
  }
  if (section.data !== undefined && section.tables === undefined && section.figures === undefined) {
    out.push(`<pre>${escapeHtml(JSON.stringify(section.data, null, 2))}</pre>`);
  }
  for (const note of section.notes ?? [])
    out.push(`<p class="note" style="color:#57606a;font-size:12px">${escapeHtml(note)}</p>`);
  out.push('</section>');
  return out.join('\n');
}

const readable = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

/** @internal The report as a self-contained HTML page. */
export function renderHtml(report: ReportData): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing in the page may load or run anything, even if a value slipped past escaping.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body style="margin:0;padding:24px;background:#f6f7f9;font-family:Arial,Helvetica,sans-serif">',
    '<main style="max-width:760px;margin:0 auto;background:#ffffff;padding:24px">',
    `<h1>${escapeHtml(report.title)}</h1>`,
    `<p class="range" style="color:#57606a">${escapeHtml(readable(report.from))} to ${escapeHtml(readable(report.to))}. Generated ${escapeHtml(readable(report.generatedAt))}.</p>`,
    ...report.sections.map(sectionHtml),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** @internal A plain-text digest of the report: its title, range, summaries and figures. */
export function renderText(report: ReportData): string {
  const lines = [report.title, `${readable(report.from)} to ${readable(report.to)}`, ''];
  for (const section of report.sections) {
    lines.push(`== ${section.title}`);
    if (section.error !== undefined) lines.push(`failed: ${section.error}`);
    if (section.summary !== undefined) lines.push(section.summary);
    for (const f of section.figures ?? [])
      lines.push(`  ${f.label}: ${f.value ?? '-'}${f.unit === undefined ? '' : ` ${f.unit}`}`);
    for (const note of section.notes ?? []) lines.push(`  (${note})`);
    lines.push('');
  }
  return lines.join('\n');
}
