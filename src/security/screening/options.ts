// The screener's options, checked once, and its rules compiled into per-field dispatch tables.
import { describeValue } from '../../core/errors.js';
import { SecurityConfigError } from '../errors.js';
import type { ThreatCategory } from '../types.js';
import { BUILTIN_RULES, REQUEST_RULES } from './rules/index.js';
import {
  ALL_FIELDS,
  type BuiltinRule,
  COOKIES,
  type Field,
  HEADERS,
  PATH,
  QUERY,
} from './rules/rule.js';
import type {
  ScreenerOptions,
  ScreeningFieldKind,
  ScreeningRule,
  ScreeningRuleInfo,
} from './types.js';

const CATEGORIES: readonly ThreatCategory[] = [
  'sql-injection',
  'xss',
  'path-traversal',
  'command-injection',
  'scanner',
  'sensitive-path',
  'malformed-request',
  'auth-burst',
  'brute-force',
  'password-spraying',
  'credential-stuffing',
];

const KIND_BITS: Record<ScreeningFieldKind, number> = {
  path: PATH,
  query: QUERY,
  header: HEADERS,
  cookie: COOKIES,
};

/** Number of field bits (rule.ts): one dispatch table each. */
export const FIELD_SLOTS = 9;

/** A rule ready to run: built-in or custom, with its position for per-request deduplication. */
export interface CompiledRule extends BuiltinRule {
  index: number;
  block: boolean;
  builtin: boolean;
}

/** The rules of one field bit, and what a field must hold for any of them to run. */
export interface FieldTable {
  /** Rules gated by characters (or not gated at all). */
  rules: CompiledRule[];
  /** Rules gated by decoding flags. */
  flagRules: CompiledRule[];
  /** Union of the rules' character gates. */
  need: number;
  /** Whether some rule has no gate at all (it runs on every field). */
  always: boolean;
  /** The rules a field runs, by `mask & need`: few distinct masks occur, each is worked out once. */
  byMask: Map<number, CompiledRule[]>;
}

/** Masks remembered per table before the memo starts over (a bound against crafted variety). */
const MAX_MEMO = 1024;

/** The character-gated rules a field of classes `mask` runs. */
export function rulesFor(table: FieldTable, mask: number): CompiledRule[] {
  const key = mask & table.need;
  let rules = table.byMask.get(key);
  if (rules === undefined) {
    rules = table.rules.filter(
      (r) =>
        (key & r.all) === r.all &&
        (r.any === 0 || (key & r.any) !== 0) &&
        (r.also === 0 || (key & r.also) !== 0),
    );
    if (table.byMask.size >= MAX_MEMO) table.byMask.clear();
    table.byMask.set(key, rules);
  }
  return rules;
}

export interface ResolvedOptions {
  blockMode: boolean;
  maxFieldBytes: number;
  maxHeaderBytes: number;
  maxHeaders: number;
  maxUrlBytes: number;
  maxParams: number;
  headers: readonly string[];
  rules: CompiledRule[];
  tables: FieldTable[];
  /** The enabled path probe rules, by id. */
  probes: Map<string, CompiledRule>;
  /** The custom rules (run even where the built-in results are remembered). */
  customRules: CompiledRule[];
  /** The request-wide rules, when enabled. */
  request: Record<keyof typeof REQUEST_RULES, CompiledRule | undefined>;
}

function fail(field: string, value: unknown, expected: string): never {
  throw new SecurityConfigError(
    `${field}=${describeValue(value)} is invalid: expected ${expected}`,
    {
      field,
      value,
      expected,
    },
  );
}

function positiveInteger(field: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
  return fail(field, value, `a whole number of at least ${min}`);
}

function confidence(field: string, value: unknown): number {
  if (typeof value === 'number' && value >= 0 && value <= 1) return value;
  return fail(field, value, 'a number from 0 to 1');
}

function customRule(rule: ScreeningRule, i: number, taken: Set<string>): BuiltinRule {
  const field = `rules.custom[${i}]`;
  if (rule === null || typeof rule !== 'object') fail(field, rule, 'a rule object');
  if (typeof rule.id !== 'string' || rule.id.trim() === '' || taken.has(rule.id)) {
    fail(`${field}.id`, rule.id, 'a non-empty id no other rule has');
  }
  if (!CATEGORIES.includes(rule.category)) {
    fail(`${field}.category`, rule.category, `one of ${CATEGORIES.join(', ')}`);
  }
  if (typeof rule.match !== 'function') fail(`${field}.match`, rule.match, 'a function');
  let fields = ALL_FIELDS;
  if (rule.fields !== undefined) {
    if (!Array.isArray(rule.fields))
      fail(`${field}.fields`, rule.fields, 'an array of field kinds');
    fields = 0;
    for (const kind of rule.fields) {
      const bits = KIND_BITS[kind as ScreeningFieldKind];
      if (bits === undefined)
        fail(`${field}.fields`, rule.fields, "kinds among 'path', 'query', 'header', 'cookie'");
      fields |= bits;
    }
    if (fields === 0) fail(`${field}.fields`, rule.fields, 'at least one field kind');
  }
  const user = rule.match;
  return {
    id: rule.id,
    category: rule.category,
    confidence: confidence(`${field}.confidence`, rule.confidence),
    description: `custom rule ${rule.id}`,
    fields,
    all: 0,
    any: 0,
    also: 0,
    flags: 0,
    match(text: string, f: Field) {
      const result = user.call(rule, text, f);
      if (result === true) return text;
      return typeof result === 'string' ? result || text : undefined;
    },
  };
}

function disabledSet(list: unknown, ids: readonly string[]): Set<string> {
  const off = new Set<string>();
  if (list === undefined) return off;
  if (!Array.isArray(list)) return fail('rules.disable', list, 'an array of rule ids');
  list.forEach((entry, i) => {
    const field = `rules.disable[${i}]`;
    if (typeof entry !== 'string') fail(field, entry, 'a rule id');
    const matches = entry.endsWith('.*')
      ? ids.filter((id) => id.startsWith(entry.slice(0, -1)))
      : ids.filter((id) => id === entry);
    if (matches.length === 0)
      fail(field, entry, 'the id of a rule (see screener.rules), or a prefix such as "sqli.*"');
    for (const id of matches) off.add(id);
  });
  return off;
}

/** Checks the options and compiles the rules; throws {@link SecurityConfigError} naming the option. */
export function resolveOptions(options: ScreenerOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object')
    fail('options', options, 'an options object');
  const mode = options.mode ?? 'detect';
  if (mode !== 'detect' && mode !== 'block') fail('mode', mode, "'detect' or 'block'");
  const blockAt =
    options.blockConfidence === undefined
      ? 0.7
      : confidence('blockConfidence', options.blockConfidence);
  const headers = options.headers ?? [];
  if (!Array.isArray(headers) || headers.some((h) => typeof h !== 'string' || h === '')) {
    fail('headers', headers, 'an array of header names');
  }
  const custom = options.rules?.custom ?? [];
  if (!Array.isArray(custom)) fail('rules.custom', custom, 'an array of rules');
  const taken = new Set(BUILTIN_RULES.map((r) => r.id));
  const customRules = custom.map((rule, i) => {
    const compiled = customRule(rule, i, taken);
    taken.add(compiled.id);
    return { compiled, block: rule.block };
  });
  const off = disabledSet(options.rules?.disable, [...taken]);

  const rules: CompiledRule[] = [];
  const add = (rule: BuiltinRule, builtin: boolean, block?: boolean) => {
    if (off.has(rule.id)) return;
    const blocks = block ?? rule.confidence >= blockAt;
    rules.push({ ...rule, index: rules.length, block: mode === 'block' && blocks, builtin });
  };
  for (const rule of BUILTIN_RULES) add(rule, true);
  for (const { compiled, block } of customRules) add(compiled, false, block);

  const enabled = (id: string) => rules.find((r) => r.id === id);
  const tables: FieldTable[] = [];
  for (let slot = 0; slot < FIELD_SLOTS; slot++) {
    const bit = 1 << slot;
    const here = rules.filter((r) => (r.fields & bit) !== 0);
    tables.push({
      rules: here.filter((r) => r.flags === 0),
      flagRules: here.filter((r) => r.flags !== 0),
      need: here.reduce((need, r) => need | r.all | r.any | r.also, 0),
      always: here.some((r) => r.all === 0 && r.any === 0 && r.also === 0 && r.flags === 0),
      byMask: new Map(),
    });
  }
  return {
    blockMode: mode === 'block',
    maxFieldBytes: positiveInteger('maxFieldBytes', options.maxFieldBytes, 8192, 64),
    maxHeaderBytes: positiveInteger('maxHeaderBytes', options.maxHeaderBytes, 8192),
    maxHeaders: positiveInteger('maxHeaders', options.maxHeaders, 100),
    maxUrlBytes: positiveInteger('maxUrlBytes', options.maxUrlBytes, 8192),
    maxParams: positiveInteger('maxParams', options.maxParams, 256),
    headers: headers.map((h) => h.toLowerCase()),
    rules,
    tables,
    probes: new Map(
      rules.filter((r) => r.builtin && r.id.startsWith('probe.')).map((r) => [r.id, r]),
    ),
    customRules: rules.filter((r) => !r.builtin),
    request: {
      tooManyHeaders: enabled(REQUEST_RULES.tooManyHeaders.id),
      tooManyParams: enabled(REQUEST_RULES.tooManyParams.id),
      oversizedHeader: enabled(REQUEST_RULES.oversizedHeader.id),
      oversizedUrl: enabled(REQUEST_RULES.oversizedUrl.id),
    },
  };
}

/** The rules in force, as `screener.rules` lists them. */
export function describeRules(rules: readonly CompiledRule[]): ScreeningRuleInfo[] {
  return rules.map((r) => ({
    id: r.id,
    category: r.category,
    confidence: r.confidence,
    description: r.description,
    builtin: r.builtin,
  }));
}
