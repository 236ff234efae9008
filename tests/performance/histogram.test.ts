import hdr, { type JsHistogram } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import {
  DurationHistogram,
  highestEquivalent,
  indexOf,
  lowestEquivalent,
  MAX_MICROS,
} from '../../src/performance/histogram.js';
import { exactPercentile, prng } from './helpers.js';

const PERCENTILES = [1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

/** The reference: HdrHistogram with the same precision. */
function reference(values: readonly number[]) {
  const histogram = hdr.build({ numberOfSignificantValueDigits: 2, lowestDiscernibleValue: 1 });
  for (const value of values) histogram.recordValue(value);
  return histogram;
}

function ours(values: readonly number[]): DurationHistogram {
  const histogram = new DurationHistogram();
  for (const value of values) histogram.record(value);
  return histogram;
}

function expectWithinOnePercent(actual: number, expected: number, what: string) {
  const tolerance = Math.max(1, Math.abs(expected) * 0.01);
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    tolerance,
  );
}

/** Checks our percentiles against HdrHistogram and against the exact sorted values. */
function expectAgreement(histogram: DurationHistogram, values: readonly number[]) {
  const hdrHistogram = reference(values);
  const sorted = [...values].sort((a, b) => a - b);
  expect(histogram.total).toBe(values.length);
  for (const p of PERCENTILES) {
    const actual = histogram.percentile(p);
    expectWithinOnePercent(actual, hdrHistogram.getValueAtPercentile(p), `p${p} vs hdr`);
    expectWithinOnePercent(actual, exactPercentile(sorted, p), `p${p} vs exact`);
  }
  hdrHistogram.destroy();
}

const random = prng(0x5eed);
const integers = (count: number, draw: () => number) =>
  Array.from({ length: count }, () => Math.max(0, Math.floor(draw())));

/** Data sets in microseconds, from tight to heavily skewed. */
const DATA_SETS: Record<string, number[]> = {
  'uniform below 256 µs (exact buckets)': integers(5_000, () => random() * 256),
  'uniform 0 to 10 ms': integers(20_000, () => random() * 10_000),
  'uniform 0 to 30 minutes (large values)': integers(10_000, () => random() * (MAX_MICROS - 1)),
  'log-normal around 2 ms (skewed)': integers(20_000, () => {
    const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.exp(Math.log(2_000) + 1.2 * gaussian);
  }),
  'exponential, mean 50 ms': integers(20_000, () => -Math.log(1 - random()) * 50_000),
  'bimodal: 99 % cache hits at ~80 µs, 1 % misses at ~400 ms': integers(20_000, () =>
    random() < 0.99 ? 60 + random() * 40 : 300_000 + random() * 200_000,
  ),
  'pareto tail (alpha 1.1)': integers(20_000, () =>
    Math.min(MAX_MICROS - 1, 100 / (1 - random()) ** (1 / 1.1)),
  ),
  'a single value': [123_456],
  'powers of two and their neighbours': Array.from({ length: 31 }, (_, i) => [
    2 ** i - 1,
    2 ** i,
    2 ** i + 1,
  ])
    .flat()
    .filter((v) => v < MAX_MICROS),
};

describe('DurationHistogram percentiles', () => {
  for (const [name, values] of Object.entries(DATA_SETS)) {
    it(`agree with hdr-histogram-js and the exact values within 1%: ${name}`, () => {
      expectAgreement(ours(values), values);
    });
  }

  it('p99.9 of 1000 calls is the 999th value, not the maximum (no floating-point rank error)', () => {
    // (99.9 / 100) * 1000 is 999.0000000000001 in floating point: a naive ceil ranks 1000.
    const values = [...Array.from({ length: 999 }, () => 1_000), 900_000];
    const histogram = ours(values);
    const hdrHistogram = reference(values);
    expect(hdrHistogram.getValueAtPercentile(99.9)).toBeLessThan(1_100);
    expect(histogram.percentile(99.9)).toBeLessThan(1_100);
    // Same at 10 000 calls: p99.9 is the 9990th value and p99.99 the 9999th.
    const many = [...Array.from({ length: 9_990 }, () => 1_000), ...Array(10).fill(500_000)];
    const large = ours(many);
    expect(large.percentile(99.9)).toBeLessThan(1_100);
    expect(ours([...many.slice(0, 9_999), 900_000]).percentile(99.99)).toBeLessThan(600_000);
  });

  it('is exact for values below 256 µs', () => {
    const values = integers(1_000, () => random() * 256);
    const histogram = ours(values);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of PERCENTILES) expect(histogram.percentile(p)).toBe(exactPercentile(sorted, p));
  });

  it('truncates fractional microseconds as HdrHistogram does for integers', () => {
    const histogram = new DurationHistogram();
    histogram.record(10.9);
    histogram.record(10.1);
    expect(histogram.percentile(100)).toBe(10);
  });

  it('returns NaN when empty', () => {
    expect(new DurationHistogram().percentile(50)).toBeNaN();
  });

  it('ranks like HdrHistogram at percentile boundaries (nearest rank)', () => {
    // 100 values 1..100: p50 is the 50th value, p50.5 the 51st, p100 the largest.
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const histogram = ours(values);
    expect(histogram.percentile(50)).toBe(50);
    expect(histogram.percentile(50.5)).toBe(51);
    expect(histogram.percentile(99)).toBe(99);
    expect(histogram.percentile(100)).toBe(100);
  });
});

describe('DurationHistogram.add', () => {
  const first = integers(10_000, () => -Math.log(1 - random()) * 3_000);
  const second = integers(10_000, () => 200_000 + random() * 5_000_000);

  it('adds a dense histogram: the result equals recording both data sets', () => {
    const merged = ours(first);
    merged.add(ours(second));
    expectAgreement(merged, [...first, ...second]);
  });

  it('adds a sparse (sealed) histogram: the result equals recording both data sets', () => {
    const merged = ours(first);
    merged.add(ours(second).toSparse());
    expectAgreement(merged, [...first, ...second]);
  });

  it('grows a small histogram to hold the larger values of the one added', () => {
    const small = new DurationHistogram(4);
    small.record(3);
    const large = ours([MAX_MICROS - 1, 50_000_000]);
    small.add(large.toSparse());
    small.add(large);
    expectAgreement(small, [3, MAX_MICROS - 1, 50_000_000, MAX_MICROS - 1, 50_000_000]);
  });

  it('leaves the added histogram unchanged', () => {
    const other = ours(second);
    const before = PERCENTILES.map((p) => other.percentile(p));
    ours(first).add(other);
    expect(PERCENTILES.map((p) => other.percentile(p))).toEqual(before);
    expect(other.total).toBe(second.length);
  });

  it('adding an empty histogram changes nothing', () => {
    const histogram = ours(first);
    const before = PERCENTILES.map((p) => histogram.percentile(p));
    histogram.add(new DurationHistogram());
    histogram.add(new DurationHistogram().toSparse());
    expect(PERCENTILES.map((p) => histogram.percentile(p))).toEqual(before);
    expect(histogram.total).toBe(first.length);
  });

  it('a sparse copy keeps exactly the non-empty buckets and the total', () => {
    const histogram = ours([5, 5, 700, 1_000_000]);
    const sparse = histogram.toSparse();
    expect([...sparse.indexes]).toEqual([indexOf(5), indexOf(700), indexOf(1_000_000)]);
    expect([...sparse.counts]).toEqual([2, 1, 1]);
    expect(sparse.total).toBe(4);
  });
});

describe('DurationHistogram.reset', () => {
  it('empties the histogram, which then records afresh', () => {
    const histogram = ours(integers(1_000, () => 1_000_000 + random() * 1_000_000));
    histogram.reset();
    expect(histogram.total).toBe(0);
    expect(histogram.percentile(99)).toBeNaN();
    histogram.record(42);
    histogram.record(43);
    expect(histogram.total).toBe(2);
    expect(histogram.percentile(100)).toBe(43);
    expect(histogram.percentile(1)).toBe(42);
  });
});

describe('clamping', () => {
  const top = highestEquivalent(indexOf(MAX_MICROS));

  it('MAX_MICROS is 2^31 - 1 µs and is the top of the last bucket', () => {
    expect(MAX_MICROS).toBe(2 ** 31 - 1);
    expect(top).toBe(MAX_MICROS);
  });

  it.each([
    MAX_MICROS,
    MAX_MICROS + 1,
    2 ** 32,
    10 * MAX_MICROS,
    Number.MAX_SAFE_INTEGER,
    Number.POSITIVE_INFINITY,
  ])('records %d µs as the largest trackable value', (value) => {
    const histogram = new DurationHistogram();
    histogram.record(value);
    histogram.record(1);
    expect(histogram.total).toBe(2);
    expect(histogram.percentile(100)).toBe(MAX_MICROS);
    expect(histogram.percentile(50)).toBe(1);
  });

  it.each([0, -1, -1e12, Number.NaN, Number.NEGATIVE_INFINITY, 0.4])(
    'records %d µs as 0',
    (value) => {
      const histogram = new DurationHistogram();
      histogram.record(value);
      expect(histogram.total).toBe(1);
      expect(histogram.percentile(100)).toBe(0);
    },
  );

  it('never grows beyond the index of MAX_MICROS', () => {
    const histogram = new DurationHistogram(1);
    histogram.record(Number.MAX_VALUE);
    expect(histogram.byteLength / 8).toBeLessThanOrEqual(indexOf(MAX_MICROS) + 1);
  });
});

describe('indexOf / lowestEquivalent / highestEquivalent', () => {
  // The default build is a JsHistogram, which exposes the bucket bounds.
  const hdrHistogram = hdr.build({
    numberOfSignificantValueDigits: 2,
    lowestDiscernibleValue: 1,
  }) as JsHistogram;
  const lastIndex = indexOf(MAX_MICROS);

  it('every bucket is contiguous with the next, from 0 to MAX_MICROS', () => {
    expect(indexOf(0)).toBe(0);
    expect(lowestEquivalent(0)).toBe(0);
    for (let index = 0; index < lastIndex; index++) {
      const low = lowestEquivalent(index);
      const high = highestEquivalent(index);
      expect(high).toBeGreaterThanOrEqual(low);
      if (indexOf(low) !== index || indexOf(high) !== index || indexOf(high + 1) !== index + 1) {
        expect.fail(`bucket ${index} [${low}, ${high}] does not round-trip`);
      }
    }
    expect(highestEquivalent(lastIndex)).toBe(MAX_MICROS);
  });

  it('every value falls into a bucket holding it, no wider than 1% of its value', () => {
    const draw = prng(42);
    const values = [
      ...Array.from({ length: 1_000 }, (_, i) => i),
      ...Array.from({ length: 20_000 }, () => Math.floor(draw() * MAX_MICROS)),
      ...Array.from({ length: 20_000 }, () => Math.floor(Math.exp(draw() * Math.log(MAX_MICROS)))),
    ];
    for (const value of values) {
      const index = indexOf(value);
      const low = lowestEquivalent(index);
      const high = highestEquivalent(index);
      if (low > value || high < value || (value >= 256 && (high - low + 1) / value > 0.01)) {
        expect.fail(`value ${value} in bucket ${index} [${low}, ${high}]`);
      }
    }
  });

  it('bucket bounds are the same as HdrHistogram with 2 significant digits', () => {
    const draw = prng(7);
    const values = [
      0,
      1,
      255,
      256,
      257,
      511,
      512,
      1_000,
      65_535,
      65_536,
      ...Array.from({ length: 5_000 }, () =>
        Math.floor(Math.exp(draw() * Math.log(MAX_MICROS - 1))),
      ),
    ];
    for (const value of values) {
      const index = indexOf(value);
      expect([lowestEquivalent(index), highestEquivalent(index)], `value ${value}`).toEqual([
        hdrHistogram.lowestEquivalentValue(value),
        hdrHistogram.highestEquivalentValue(value),
      ]);
    }
  });
});
