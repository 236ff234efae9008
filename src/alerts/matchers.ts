import type { AlertLabels, LabelMatcher } from './types.js';

/** A compiled label matcher list: true when every matcher matches. */
export type LabelPredicate = (labels: AlertLabels) => boolean;

const OPS = new Set(['=', '!=', '=~', '!~']);

/**
 * @internal Checks one matcher and compiles it; returns the problem (with the field under
 * `path` it is about) instead of throwing, so each caller raises its own typed error. Regular
 * expressions are anchored, as in Alertmanager: `=~ 'api|web'` matches `api`, not `rapid`. A
 * label the alert does not carry is the empty string.
 *
 * @example
 * ```ts
 * const result = compileMatchers([{ name: 'service', op: '=~', value: 'api|web' }], 'matchers');
 * ```
 */
export function compileMatchers(
  matchers: unknown,
  path: string,
): { match: LabelPredicate } | { field: string; value: unknown; problem: string } {
  if (!Array.isArray(matchers)) {
    return { field: path, value: matchers, problem: 'expected an array of label matchers' };
  }
  const tests: ((labels: AlertLabels) => boolean)[] = [];
  for (const [i, matcher] of matchers.entries()) {
    const at = `${path}[${i}]`;
    if (matcher === null || typeof matcher !== 'object') {
      return { field: at, value: matcher, problem: 'expected { name, value, op? }' };
    }
    const { name, value, op = '=' } = matcher as LabelMatcher;
    if (typeof name !== 'string' || name.length === 0) {
      return { field: `${at}.name`, value: name, problem: 'expected a non-empty label name' };
    }
    if (typeof value !== 'string') {
      return { field: `${at}.value`, value, problem: 'expected a string' };
    }
    if (!OPS.has(op)) {
      return { field: `${at}.op`, value: op, problem: "expected '=', '!=', '=~' or '!~'" };
    }
    if (op === '=' || op === '!=') {
      const equal = op === '=';
      tests.push((labels) => ((labels[name] ?? '') === value) === equal);
      continue;
    }
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${value})$`);
    } catch (error) {
      return {
        field: `${at}.value`,
        value,
        problem: `not a regular expression: ${(error as Error).message}`,
      };
    }
    const positive = op === '=~';
    tests.push((labels) => pattern.test(labels[name] ?? '') === positive);
  }
  return { match: (labels) => tests.every((test) => test(labels)) };
}
