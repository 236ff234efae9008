import { parseDuration } from '../core/duration.js';
import { describeValue } from '../core/errors.js';
import { createDetector } from './detectors/index.js';
import { AlertRuleError } from './errors.js';
import { compileTemplate, type Template } from './template.js';
import type { AlertCondition, AlertLabels, AlertRuleDefinition, AlertSeverity } from './types.js';

/** @internal A rule checked once, its durations in milliseconds and its templates compiled. */
export interface CompiledRule {
  /** A copy of the definition as given, for `alerts.rules()`. */
  readonly definition: Readonly<AlertRuleDefinition>;
  readonly name: string;
  readonly watch: string | (() => number | Promise<number>);
  readonly where: AlertLabels | undefined;
  readonly condition: AlertCondition;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly severity: AlertSeverity;
  readonly labels: AlertLabels;
  readonly summary: Template | undefined;
  readonly annotations: Readonly<Record<string, Template>>;
  readonly intervalMs: number;
  readonly noData: 'nodata' | 'ok' | 'alerting';
}

const SEVERITIES: readonly AlertSeverity[] = ['info', 'warning', 'critical'];
const NO_DATA = ['nodata', 'ok', 'alerting'] as const;
const CONDITIONS = ['above', 'below', 'anomaly', 'trend', 'forecast'];
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * @internal Validates `definition` and compiles it. Every problem is an {@link AlertRuleError}
 * whose `context.field` names the field: `name`, `watch` (not a source the instance knows, when
 * it knows any), `condition` (no key or several), `condition.above`, `for`, `keepFiringFor`,
 * `interval`, `severity`, `labels.<name>`, `summary` / `annotations.<name>` (a placeholder the
 * template does not know), `noData`.
 *
 * @example
 * ```ts
 * const rule = compileRule(
 *   { name: 'slow', watch: 'operation.p95', condition: { above: 500 }, for: '2m' },
 *   { defaultIntervalMs: 15_000, sources: new Set(['operation.p95']) },
 * );
 * rule.forMs; // 120_000
 * ```
 */
export function compileRule(
  definition: AlertRuleDefinition,
  options: { defaultIntervalMs: number; sources?: ReadonlySet<string> | undefined },
): CompiledRule {
  if (definition === null || typeof definition !== 'object') {
    throw new AlertRuleError(`alert rule ${describeValue(definition)} is not an object`, {
      rule: '',
      field: 'definition',
      value: definition,
    });
  }
  const name = definition.name;
  if (typeof name !== 'string' || name.trim().length === 0) {
    throw new AlertRuleError(`alert rule name=${describeValue(name)} is not a non-empty string`, {
      rule: String(name ?? ''),
      field: 'name',
      value: name,
    });
  }
  const fail = (field: string, value: unknown, expected: string, cause?: unknown): never => {
    throw new AlertRuleError(
      `rule "${name}": ${field}=${describeValue(value)} is invalid: ${expected}`,
      { rule: name, field, value },
      cause,
    );
  };
  const duration = (field: keyof AlertRuleDefinition, fallback: number): number => {
    const value = definition[field];
    if (value === undefined) return fallback;
    try {
      return parseDuration(value, field);
    } catch (error) {
      return fail(field, value, "expected a duration such as 30 (seconds), '500ms', '5m'", error);
    }
  };

  const watch = definition.watch;
  if (typeof watch === 'string') {
    if (watch.length === 0) fail('watch', watch, 'expected a value source name or a function');
    if (options.sources !== undefined && options.sources.size > 0 && !options.sources.has(watch)) {
      fail(
        'watch',
        watch,
        `no value source has this name (known: ${[...options.sources].join(', ')})`,
      );
    }
  } else if (typeof watch !== 'function') {
    fail('watch', watch, 'expected a value source name or a function');
  }

  const where = definition.where === undefined ? undefined : stringRecord('where');
  const condition = checkCondition(definition.condition, name, fail);
  const forMs = duration('for', 0);
  const keepFiringForMs = duration('keepFiringFor', 0);
  const intervalMs = duration('interval', options.defaultIntervalMs);
  if (intervalMs <= 0) fail('interval', definition.interval, 'expected a positive duration');
  const severity = definition.severity ?? 'warning';
  if (!SEVERITIES.includes(severity))
    fail('severity', severity, `expected ${SEVERITIES.join(', ')}`);
  const noData = definition.noData ?? 'nodata';
  if (!NO_DATA.includes(noData)) fail('noData', noData, `expected ${NO_DATA.join(', ')}`);
  const labels = definition.labels === undefined ? {} : stringRecord('labels');
  for (const label of Object.keys(labels)) {
    if (!LABEL_NAME.test(label))
      fail(`labels.${label}`, label, 'expected a label name ([A-Za-z_][A-Za-z0-9_]*)');
    if (label === 'alertname')
      fail('labels.alertname', labels[label], 'alertname is the rule name');
  }
  const template = (field: string, text: unknown): Template => {
    if (typeof text !== 'string') return fail(field, text, 'expected a template string');
    const compiled = compileTemplate(text);
    if (typeof compiled === 'function') return compiled;
    return fail(
      field,
      text,
      `unknown placeholder ${compiled.unknown}: expected {{value}}, {{labels.<name>}}, {{rule}}, {{severity}} or {{reason}}`,
    );
  };
  const summary =
    definition.summary === undefined ? undefined : template('summary', definition.summary);
  const annotations: Record<string, Template> = {};
  if (definition.annotations !== undefined) {
    for (const [key, text] of Object.entries(stringRecord('annotations'))) {
      annotations[key] = template(`annotations.${key}`, text);
    }
  }

  return {
    definition: Object.freeze({ ...definition }),
    name,
    watch,
    where,
    condition,
    forMs,
    keepFiringForMs,
    severity,
    labels,
    summary,
    annotations,
    intervalMs,
    noData,
  };

  function stringRecord(field: 'where' | 'labels' | 'annotations'): Record<string, string> {
    const value = definition[field];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return fail(field, value, 'expected an object of strings');
    }
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string') fail(`${field}.${key}`, item, 'expected a string');
    }
    return { ...(value as Record<string, string>) };
  }
}

function checkCondition(
  condition: unknown,
  rule: string,
  fail: (field: string, value: unknown, expected: string, cause?: unknown) => never,
): AlertCondition {
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) {
    return fail('condition', condition, `expected an object with one of ${CONDITIONS.join(', ')}`);
  }
  const keys = Object.keys(condition);
  if (keys.length !== 1) {
    return fail(
      'condition',
      condition,
      `expected exactly one of ${CONDITIONS.join(', ')} (got ${keys.length} keys)`,
    );
  }
  const key = keys[0]!;
  if (!CONDITIONS.includes(key)) {
    return fail(
      'condition',
      condition,
      `unknown condition "${key}": expected one of ${CONDITIONS.join(', ')}`,
    );
  }
  const value = (condition as Record<string, unknown>)[key];
  if (
    (key === 'above' || key === 'below') &&
    (typeof value !== 'number' || !Number.isFinite(value))
  ) {
    return fail(`condition.${key}`, value, 'expected a finite number');
  }
  try {
    // The detector checks its own options; building one now refuses a bad rule at declaration.
    createDetector(condition as AlertCondition, rule);
  } catch (error) {
    if (error instanceof AlertRuleError) throw error;
    return fail('condition', condition, (error as Error).message, error);
  }
  return condition as AlertCondition;
}
