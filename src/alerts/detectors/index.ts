import { AlertRuleError } from '../errors.js';
import type { AlertCondition, Detector } from '../types.js';
import { thresholdDetector } from './threshold.js';

/**
 * Builds the per-series state of a condition. One detector per (rule, labels) pair.
 *
 * @example
 * ```ts
 * const detector = createDetector({ above: 500 });
 * ```
 */
export function createDetector(condition: AlertCondition, rule = 'rule'): Detector {
  if ('above' in condition) return thresholdDetector('above', condition.above);
  if ('below' in condition) return thresholdDetector('below', condition.below);
  throw new AlertRuleError(`rule "${rule}": this condition is not available yet`, {
    rule,
    field: 'condition',
    value: Object.keys(condition),
  });
}
