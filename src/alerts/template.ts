import type { AlertLabels, AlertSeverity } from './types.js';

/** What a summary or annotation template may refer to. */
export interface TemplateContext {
  value: number | null;
  labels: AlertLabels;
  rule: string;
  severity: AlertSeverity;
  reason?: string | undefined;
}

/** A template compiled once, rendered at each evaluation. */
export type Template = (context: TemplateContext) => string;

/** The placeholders a template may hold, besides `{{labels.<name>}}`. */
export const TEMPLATE_FIELDS = ['value', 'rule', 'severity', 'reason'] as const;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const LABEL = /^labels\.([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * @internal Compiles `text` into a renderer, or returns the first placeholder it does not know
 * (`{{valeu}}`, `{{labels.}}`), so the rule can be refused when it is declared rather than render
 * garbage at 3 a.m. A label the alert does not carry renders as an empty string; a value of
 * `null` (no data, an error) as `n/a`.
 *
 * @example
 * ```ts
 * const render = compileTemplate('{{labels.operation}} p95 is {{value}} ms');
 * if (typeof render === 'function') render({ value: 812, labels: { operation: 'GET /' }, rule: 'slow', severity: 'warning' });
 * ```
 */
export function compileTemplate(text: string): Template | { unknown: string } {
  const parts: (string | ((context: TemplateContext) => string))[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    const render = placeholder(name);
    if (render === undefined) return { unknown: match[0] };
    parts.push(text.slice(last, match.index), render);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  const fixed = parts.filter((p) => p !== '');
  if (fixed.every((p) => typeof p === 'string')) {
    const constant = fixed.join('');
    return () => constant;
  }
  return (context) => {
    let out = '';
    for (const part of fixed) out += typeof part === 'string' ? part : part(context);
    return out;
  };
}

function placeholder(name: string): ((context: TemplateContext) => string) | undefined {
  switch (name) {
    case 'value':
      return (c) => formatValue(c.value);
    case 'rule':
      return (c) => c.rule;
    case 'severity':
      return (c) => c.severity;
    case 'reason':
      return (c) => c.reason ?? '';
  }
  const label = LABEL.exec(name)?.[1];
  if (label === undefined) return undefined;
  return (c) => c.labels[label] ?? '';
}

/** Values as people read them: no binary-fraction tails (`0.30000000000000004`). */
export function formatValue(value: number | null): string {
  if (value === null || Number.isNaN(value)) return 'n/a';
  if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}
