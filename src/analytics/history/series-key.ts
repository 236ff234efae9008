import { createHash } from 'node:crypto';

// How a store names one series (a kind, a name and a label set) in keys and rows.

/**
 * @internal The labels as JSON with their names sorted, so one label set has one spelling
 * whatever order it was built in.
 *
 * @example
 * ```ts
 * canonicalLabels({ b: '2', a: '1' }); // '{"a":"1","b":"2"}'
 * ```
 */
export function canonicalLabels(labels: Readonly<Record<string, string>>): string {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(labels).sort()) sorted[name] = String(labels[name]);
  return JSON.stringify(sorted);
}

/**
 * @internal A short, stable id of a label set (96 bits of SHA-256), for keys and primary keys.
 *
 * @example
 * ```ts
 * labelSetId('{"route":"/users"}'); // 'hJ3n...'
 * ```
 */
export function labelSetId(canonical: string): string {
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

/** @internal Parses labels written by {@link canonicalLabels}; `undefined` when they are not. */
export function parseLabels(json: string): Record<string, string> | undefined {
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const labels: Record<string, string> = {};
    for (const [name, label] of Object.entries(value)) {
      if (typeof label !== 'string') return undefined;
      labels[name] = label;
    }
    return labels;
  } catch {
    return undefined;
  }
}
