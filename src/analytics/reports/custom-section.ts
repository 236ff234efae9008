// What an inline section `(ctx) => data` returned, made into section content: the content shape
// when it is one, else a table (array of objects), figures (an object of scalars) or a figure.
import type { ReportFigure, ReportTable, ReportValue, SectionContent } from './types.js';

const CONTENT_KEYS = ['summary', 'figures', 'tables', 'charts', 'notes', 'data'];
const MAX_COLUMNS = 50;
const MAX_ROWS = 10_000;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const cell = (value: unknown): ReportValue =>
  value === null || value === undefined
    ? null
    : typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? value
      : JSON.stringify(value);

/**
 * @internal The content of a custom section. Throws a `TypeError` for what JSON cannot hold
 * (cycles, BigInt), which the report shows as the section's error.
 */
export function customContent(returned: unknown): SectionContent {
  if (returned === undefined) return {};
  // A copy detached from the caller's objects, and proof it is JSON.
  const data: unknown = JSON.parse(JSON.stringify(returned) ?? 'null');
  if (
    isPlainObject(data) &&
    Object.keys(data).length > 0 &&
    Object.keys(data).every((k) => CONTENT_KEYS.includes(k))
  ) {
    return contentOf(data);
  }
  if (Array.isArray(data) && data.length > 0 && data.every(isPlainObject)) {
    const columns = [...new Set(data.flatMap((row) => Object.keys(row)))].slice(0, MAX_COLUMNS);
    return {
      tables: [
        {
          title: '',
          columns,
          rows: data.slice(0, MAX_ROWS).map((row) => columns.map((c) => cell(row[c]))),
        },
      ],
      data,
    };
  }
  if (isPlainObject(data)) {
    const figures: ReportFigure[] = Object.entries(data).map(([label, value]) => ({
      label,
      value: cell(value),
    }));
    return { figures, data };
  }
  return { figures: [{ label: 'value', value: cell(data) }], data };
}

function contentOf(data: Record<string, unknown>): SectionContent {
  const content: SectionContent = {};
  if (typeof data.summary === 'string') content.summary = data.summary;
  if (Array.isArray(data.figures)) {
    content.figures = data.figures.filter(isPlainObject).map((f) => ({
      label: String(f.label ?? ''),
      value: cell(f.value),
      ...(typeof f.unit === 'string' ? { unit: f.unit } : {}),
    }));
  }
  if (Array.isArray(data.tables)) {
    content.tables = data.tables.filter(isPlainObject).map(
      (t): ReportTable => ({
        title: String(t.title ?? ''),
        columns: Array.isArray(t.columns) ? t.columns.map(String) : [],
        rows: Array.isArray(t.rows)
          ? t.rows.filter(Array.isArray).map((row) => (row as unknown[]).map(cell))
          : [],
      }),
    );
  }
  if (Array.isArray(data.charts)) {
    content.charts = data.charts.filter(isPlainObject).map((c) => ({
      title: String(c.title ?? ''),
      ...(typeof c.unit === 'string' ? { unit: c.unit } : {}),
      series: (Array.isArray(c.series) ? c.series : []).filter(isPlainObject).map((s) => ({
        name: String(s.name ?? ''),
        points: (Array.isArray(s.points) ? s.points : [])
          .filter((p): p is unknown[] => Array.isArray(p) && typeof p[0] === 'number')
          .map(
            (p) =>
              [p[0] as number, typeof p[1] === 'number' ? p[1] : null] as [number, number | null],
          ),
      })),
    }));
  }
  if (Array.isArray(data.notes)) content.notes = data.notes.map(String);
  if (data.data !== undefined) content.data = data.data;
  return content;
}
