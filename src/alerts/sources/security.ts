import type { ValueSource } from '../types.js';

/**
 * What the security source reads: anything with a `score()` (the security module is one). The
 * alerts module does not import the security module; the composition root hands it in.
 */
export interface SecurityScoreReader {
  score(): { score: number };
}

/**
 * The value source of the security module: `security.score`, one series without labels, 0 to
 * 100 over the module's window. The built-in rule `SecurityScoreLow` watches it.
 *
 * @example
 * ```ts
 * const [score] = securitySources(security);
 * await score.read(); // [{ labels: {}, value: 96.5 }]
 * ```
 */
export function securitySources(security: SecurityScoreReader): ValueSource[] {
  return [
    {
      name: 'security.score',
      description: 'The security score, 0 to 100, over its window (GET /security/monitoring)',
      read: () => [{ labels: {}, value: security.score().score }],
    },
  ];
}
