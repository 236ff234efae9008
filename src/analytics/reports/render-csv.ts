// The CSV format: RFC 4180 (comma, CRLF, double quotes), one block per figure list, table and
// chart, each headed by a row naming its section and block, blocks separated by an empty line.
import type { ReportData, ReportValue } from './types.js';

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;
// A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
const FORMULA = /^[=+\-@\t\r]/;

/**
 * @internal One CSV field: quoted when it holds a comma, a quote, a line break or edge spaces;
 * text that a spreadsheet would run as a formula is prefixed with a quote character.
 */
export function csvField(value: ReportValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = FORMULA.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const line = (values: readonly (ReportValue | undefined)[]) => values.map(csvField).join(',');

/** @internal The report as CSV. */
export function renderCsv(report: ReportData): string {
  const lines: string[] = [
    line(['report', report.title]),
    line(['from', report.from]),
    line(['to', report.to]),
    line(['generated', report.generatedAt]),
  ];
  const block = (
    section: string,
    title: string,
    columns: readonly string[],
    rows: readonly (readonly ReportValue[])[],
  ) => {
    lines.push('', line([section, title]), line(columns), ...rows.map((row) => line(row)));
  };
  for (const section of report.sections) {
    if (section.error !== undefined) block(section.title, 'error', ['message'], [[section.error]]);
    if (section.summary !== undefined)
      block(section.title, 'summary', ['summary'], [[section.summary]]);
    if (section.figures !== undefined && section.figures.length > 0) {
      block(
        section.title,
        'figures',
        ['figure', 'value', 'unit'],
        section.figures.map((f) => [f.label, f.value, f.unit ?? null]),
      );
    }
    for (const table of section.tables ?? [])
      block(section.title, table.title, table.columns, table.rows);
    for (const chart of section.charts ?? []) {
      const times = [...new Set(chart.series.flatMap((s) => s.points.map(([at]) => at)))].sort(
        (a, b) => a - b,
      );
      const byTime = chart.series.map((s) => new Map(s.points));
      block(
        section.title,
        chart.title,
        ['time', ...chart.series.map((s) => s.name)],
        times.map((at) => [new Date(at).toISOString(), ...byTime.map((m) => m.get(at) ?? null)]),
      );
    }
    for (const note of section.notes ?? []) block(section.title, 'note', ['note'], [[note]]);
  }
  return `${lines.join('\r\n')}\r\n`;
}
