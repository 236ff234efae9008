import { createHash } from 'node:crypto';
import type { AlertLabels } from './types.js';

/**
 * @internal The stable identity of an alert: SHA-256 of the rule name and the labels sorted by
 * name, first 16 hex digits. The same in every process and across restarts, so acknowledgements,
 * silences and notification claims made by one instance apply on the others.
 *
 * @example
 * ```ts
 * alertFingerprint('HighLatency', { alertname: 'HighLatency', operation: 'GET /' }); // 'a3f0…' (16 hex)
 * ```
 */
export function alertFingerprint(rule: string, labels: AlertLabels): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((name) => [name, labels[name]!]);
  // JSON keeps names and values apart whatever characters they hold.
  return sha256Hex(JSON.stringify([rule, pairs])).slice(0, 16);
}

/** @internal Hex SHA-256 of `text`. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
