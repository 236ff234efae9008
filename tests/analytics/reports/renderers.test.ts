// The three formats: CSV read back field for field (quotes, commas, line breaks, formulas), HTML
// with nothing that runs or loads (every value escaped), JSON as the report's data.
import { describe, expect, it } from 'vitest';
import { csvField, renderCsv } from '../../../src/analytics/reports/render-csv.js';
import { renderHtml, renderText } from '../../../src/analytics/reports/render-html.js';
import { Reports } from '../../../src/analytics/reports/reports.js';
import type { ReportData } from '../../../src/analytics/reports/types.js';
import { createDefaultLogger } from '../../../src/core/logger.js';

const HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>';

/** A CSV parser after RFC 4180, to read back what was written. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

const report: ReportData = {
  name: 'weekly',
  title: `Weekly ${HOSTILE}`,
  from: '2025-01-06T00:00:00.000Z',
  to: '2025-01-13T00:00:00.000Z',
  generatedAt: '2025-01-13T00:00:05.000Z',
  sections: [
    {
      name: 'orders',
      title: 'Orders, "by country"',
      summary: 'Line one\nline two',
      figures: [
        { label: 'Orders', value: 1204 },
        { label: 'Delta', value: -3.5, unit: '%' },
      ],
      tables: [
        {
          title: 'By country',
          columns: ['country', 'orders', 'comment'],
          rows: [
            ['FR', 700, 'a, b'],
            ['DE', 504, 'say "hi"'],
            ['=HYPERLINK("http://evil")', null, ' padded '],
            [HOSTILE, 1, 'multi\r\nline'],
          ],
        },
      ],
      charts: [
        {
          title: 'Orders per day',
          series: [
            {
              name: 'orders',
              points: [
                [Date.UTC(2025, 0, 6), 100],
                [Date.UTC(2025, 0, 7), null],
                [Date.UTC(2025, 0, 8), 130],
              ],
            },
            {
              name: HOSTILE,
              points: [
                [Date.UTC(2025, 0, 6), 10],
                [Date.UTC(2025, 0, 8), 12],
              ],
            },
          ],
          threshold: { label: 'limit', value: 150 },
        },
      ],
    },
    { name: 'broken', title: 'Broken', error: `failed with ${HOSTILE}` },
  ],
};

describe('CSV', () => {
  it('quotes what needs quoting and defuses formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded ')).toBe('" padded "');
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(-3.5)).toBe('-3.5');
    expect(csvField(null)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
  });

  it('reads back field for field', () => {
    const text = renderCsv(report);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    const at = rows.findIndex((r) => r[1] === 'By country');
    expect(rows[at]).toEqual(['Orders, "by country"', 'By country']);
    expect(rows.slice(at + 1, at + 6)).toEqual([
      ['country', 'orders', 'comment'],
      ['FR', '700', 'a, b'],
      ['DE', '504', 'say "hi"'],
      ['\'=HYPERLINK("http://evil")', '', ' padded '],
      [HOSTILE, '1', 'multi\r\nline'],
    ]);
    const chart = rows.findIndex((r) => r[1] === 'Orders per day');
    expect(rows[chart + 1]).toEqual(['time', 'orders', HOSTILE]);
    expect(rows[chart + 2]).toEqual(['2025-01-06T00:00:00.000Z', '100', '10']);
    expect(rows[chart + 3]).toEqual(['2025-01-07T00:00:00.000Z', '', '']);
    expect(rows.find((r) => r[1] === 'error')).toBeDefined();
    // Every row of a block has as many fields as its header.
    expect(rows.slice(at + 1, at + 6).every((r) => r.length === 3)).toBe(true);
  });
});

describe('HTML', () => {
  const html = renderHtml(report);

  it('has no script, no handler, nothing to load, and every value escaped', () => {
    expect(html).not.toMatch(/<script/i);
    // Within tags: the escaped text may spell `onerror=`, no element may carry it.
    const tags = html.match(/<[^>]*>/g)!;
    expect(tags.filter((tag) => /\son\w+\s*=/i.test(tag))).toEqual([]);
    expect(
      tags.filter((tag) => /^<(link|iframe|object|embed|img|script|base|form)\b/i.test(tag)),
    ).toEqual([]);
    expect(html).not.toMatch(/url\(/i);
    // The only URL in a tag is the SVG namespace, which names and loads nothing.
    const urls = tags.flatMap((tag) =>
      [...tag.matchAll(/https?:\/\/[^\s"'<>]+/g)].map((m) => m[0]),
    );
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg']));
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('Content-Security-Policy" content="default-src \'none\'');
  });

  it('draws each chart as inline SVG with its threshold, a gap where a value is missing', () => {
    const svg = html.match(/<svg[\s\S]*?<\/svg>/)![0];
    expect(svg).toContain('<title>Orders per day</title>');
    expect(svg).toContain('stroke-dasharray="6 4"');
    const paths = [...svg.matchAll(/<path class="series" d="([^"]+)"/g)].map((m) => m[1]!);
    expect(paths).toHaveLength(2);
    // The null splits the first line: two moves, no line between them.
    expect(paths[0]!.match(/M/g)).toHaveLength(2);
    expect(paths[0]).not.toContain('L');
  });

  it('has a text digest for mail clients that show no HTML', () => {
    const text = renderText(report);
    expect(text).toContain('== Orders, "by country"');
    expect(text).toContain('  Delta: -3.5 %');
    expect(text).toContain('failed with');
  });
});

describe('JSON', () => {
  it('is the report data', async () => {
    const reports = new Reports({ logger: createDefaultLogger('silent') });
    reports.define('daily', {
      sections: [{ name: 'x', collect: () => ({ figures: [{ label: 'n', value: 1 }] }) }],
      formats: ['json'],
    });
    const { body, data, contentType } = await reports.generate('daily');
    expect(contentType).toBe('application/json');
    expect(JSON.parse(body)).toEqual(data);
    expect(data.sections).toEqual([{ name: 'x', title: 'x', figures: [{ label: 'n', value: 1 }] }]);
  });
});
