import { COMMAND_INJECTION_RULES } from './command-injection.js';
import { MALFORMED_FIELD_RULES, REQUEST_RULES } from './malformed.js';
import { PATH_TRAVERSAL_RULES } from './path-traversal.js';
import { PROBE_RULES, SCANNER_RULE } from './probes.js';
import type { BuiltinRule } from './rule.js';
import { SQL_INJECTION_RULES } from './sql-injection.js';
import { XSS_RULES } from './xss.js';

/**
 * Every built-in rule. Those with `fields: 0` (path probes, request-wide checks) are run by the
 * screener itself rather than field by field.
 */
export const BUILTIN_RULES: readonly BuiltinRule[] = [
  ...SQL_INJECTION_RULES,
  ...XSS_RULES,
  ...PATH_TRAVERSAL_RULES,
  ...COMMAND_INJECTION_RULES,
  SCANNER_RULE,
  ...PROBE_RULES,
  ...MALFORMED_FIELD_RULES,
  ...Object.values(REQUEST_RULES),
];

export { probeOf } from './probes.js';
export { REQUEST_RULES };
