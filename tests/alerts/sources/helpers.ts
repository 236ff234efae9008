import { expect } from 'vitest';
import type { SeriesValue, ValueSource } from '../../../src/alerts/types.js';

/** Reads the source named `name` among `sources`. */
export async function read(sources: ValueSource[], name: string): Promise<readonly SeriesValue[]> {
  const source = sources.find((s) => s.name === name);
  if (source === undefined) throw new Error(`no source ${name}`);
  return source.read();
}

/** The value of the one series whose labels equal `labels` (same keys, same values). */
export function valueFor(series: readonly SeriesValue[], labels: Record<string, string>) {
  const found = series.filter((s) => JSON.stringify(s.labels) === JSON.stringify(labels));
  expect(found).toHaveLength(1);
  return found[0]!.value;
}
