/**
 * The requests of bench:service: 80% product reads, 12% list reads, 5% updates, 3% orders, with
 * products, categories and pages drawn from a Zipf-like popularity (s = 1), as real catalogues
 * have. The same seeded sequence drives every variant.
 */
import { CATEGORIES, PAGES, PRODUCTS } from './catalogue-db.js';

export interface ServiceRequest {
  method: 'GET' | 'PUT' | 'POST';
  path: string;
  body?: string;
  /** The route template, for the per-route counts. */
  route: 'product' | 'list' | 'update' | 'order';
}

/** mulberry32: a small seeded generator, so every run draws the same sequence. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws ranks 1..n with probability proportional to 1 / rank^s. */
export class Zipf {
  readonly #cumulative: Float64Array;

  constructor(n: number, s = 1) {
    this.#cumulative = new Float64Array(n);
    let sum = 0;
    for (let rank = 1; rank <= n; rank++) {
      sum += 1 / rank ** s;
      this.#cumulative[rank - 1] = sum;
    }
  }

  /** A rank from 1 to n for a uniform `u` in [0, 1). */
  rank(u: number): number {
    const cumulative = this.#cumulative;
    const target = u * cumulative[cumulative.length - 1]!;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return low + 1;
  }
}

/** A seeded permutation of 1..n: popularity rank → id, so the popular products are spread out. */
function permutation(n: number, next: () => number): Int32Array {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i + 1;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const swap = ids[i]!;
    ids[i] = ids[j]!;
    ids[j] = swap;
  }
  return ids;
}

/** An endless, seeded sequence of the service's requests. */
export function workload(seed = 1): () => ServiceRequest {
  const next = random(seed);
  const products = new Zipf(PRODUCTS);
  const categories = new Zipf(CATEGORIES);
  const pages = new Zipf(PAGES);
  const productIds = permutation(PRODUCTS, random(7));
  const categoryIds = permutation(CATEGORIES, random(11));
  const product = () => productIds[products.rank(next()) - 1]!;
  return () => {
    const roll = next();
    if (roll < 0.8) return { method: 'GET', path: `/products/${product()}`, route: 'product' };
    if (roll < 0.92) {
      const category = categoryIds[categories.rank(next()) - 1]!;
      return {
        method: 'GET',
        path: `/categories/${category}/products?page=${pages.rank(next())}`,
        route: 'list',
      };
    }
    if (roll < 0.97) {
      const body = JSON.stringify({ priceCents: 100 + Math.floor(next() * 100_000) });
      return { method: 'PUT', path: `/products/${product()}`, body, route: 'update' };
    }
    const body = JSON.stringify({ productId: product(), quantity: 1 + Math.floor(next() * 3) });
    return { method: 'POST', path: '/orders', body, route: 'order' };
  };
}
