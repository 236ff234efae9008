import { describe, expect, it } from 'vitest';
import { uuid } from '../../src/core/uuid.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuid', () => {
  it('makes version 4 UUIDs, distinct across many batches of the random pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = uuid();
      expect(id).toMatch(V4);
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
  });

  it('draws every hex digit but the fixed ones at random', () => {
    // Over 4,096 ids each free position takes each of its possible digits; a formatting slip (a
    // position always 0, a nibble written twice) would leave digits out.
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 4096; i++) {
      const id = uuid();
      for (let at = 0; at < 36; at++) digits[at]!.add(id[at]!);
    }
    for (let at = 0; at < 36; at++) {
      const expected = [8, 13, 18, 23].includes(at) ? 1 : at === 14 ? 1 : at === 19 ? 4 : 16;
      expect(digits[at]!.size, `position ${at}`).toBe(expected);
    }
  });

  it('keeps earlier ids intact when the pool is refilled', () => {
    const first = uuid();
    const copy = `${first}`;
    for (let i = 0; i < 600; i++) uuid();
    expect(first).toBe(copy);
  });
});
