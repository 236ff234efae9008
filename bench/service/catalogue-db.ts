/**
 * The catalogue's PostgreSQL side, shared by every implementation of bench:service: the tables
 * (named after the run, in the `test` database), the seed, the four queries the routes make, and
 * the cleanup. It is plain `pg`, the same code under each stack, so the implementations differ
 * only in what they put around it.
 */
import pg from 'pg';

/** Products, and the categories they fall in, as the issue asks. */
export const PRODUCTS = 100_000;
export const CATEGORIES = 50;
/** Products per page of a category's list. */
export const PAGE_SIZE = 20;
/** Pages of a category's list (2,000 products each). */
export const PAGES = PRODUCTS / CATEGORIES / PAGE_SIZE;

export interface Product {
  id: number;
  categoryId: number;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
  updatedAt: string;
}

export interface ProductSummary {
  id: number;
  name: string;
  priceCents: number;
}

/** The category of a product: products are spread over the categories in turn. */
export function categoryOf(productId: number): number {
  return ((productId - 1) % CATEGORIES) + 1;
}

/** The connection string of the `test` database (`DATABASE_URL` wins). */
export function databaseUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** Table names of one run: `<base>_products`, `<base>_orders`. */
export function tableNames(base: string): { products: string; orders: string } {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(base)) throw new Error(`bad table base name ${base}`);
  return { products: `${base}_products`, orders: `${base}_orders` };
}

/** Queries sent by every {@link CatalogueDb} of this process (read by child.ts for the figures). */
export const queryCount = { value: 0 };

/** The queries of the service, on a pool of its own. */
export class CatalogueDb {
  readonly pool: pg.Pool;
  readonly #products: string;
  readonly #orders: string;

  constructor(base: string, poolSize = 8) {
    const tables = tableNames(base);
    this.#products = tables.products;
    this.#orders = tables.orders;
    this.pool = new pg.Pool({ connectionString: databaseUrl(), max: poolSize });
  }

  async findProduct(id: number): Promise<Product | undefined> {
    queryCount.value++;
    const result = await this.pool.query({
      name: 'find-product',
      text: `SELECT id, category_id AS "categoryId", name, description, price_cents AS "priceCents",
        stock, updated_at AS "updatedAt" FROM ${this.#products} WHERE id = $1`,
      values: [id],
    });
    return result.rows[0] as Product | undefined;
  }

  async listCategory(categoryId: number, page: number): Promise<ProductSummary[]> {
    queryCount.value++;
    const result = await this.pool.query({
      name: 'list-category',
      text: `SELECT id, name, price_cents AS "priceCents" FROM ${this.#products}
        WHERE category_id = $1 ORDER BY id LIMIT ${PAGE_SIZE} OFFSET $2`,
      values: [categoryId, (page - 1) * PAGE_SIZE],
    });
    return result.rows as ProductSummary[];
  }

  /** Sets a product's price; its category, or undefined when there is no such product. */
  async updatePrice(id: number, priceCents: number): Promise<number | undefined> {
    queryCount.value++;
    const result = await this.pool.query({
      name: 'update-price',
      text: `UPDATE ${this.#products} SET price_cents = $2, updated_at = now() WHERE id = $1
        RETURNING category_id AS "categoryId"`,
      values: [id, priceCents],
    });
    return (result.rows[0] as { categoryId: number } | undefined)?.categoryId;
  }

  /** Stores an order; its id. */
  async insertOrder(productId: number, quantity: number): Promise<number> {
    queryCount.value++;
    const result = await this.pool.query({
      name: 'insert-order',
      text: `INSERT INTO ${this.#orders} (product_id, quantity) VALUES ($1, $2) RETURNING id`,
      values: [productId, quantity],
    });
    return Number((result.rows[0] as { id: string }).id);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Creates and fills the run's tables: {@link PRODUCTS} products in {@link CATEGORIES} categories. */
export async function seed(base: string): Promise<void> {
  const { products, orders } = tableNames(base);
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(`CREATE TABLE ${products} (
      id integer PRIMARY KEY, category_id integer NOT NULL, name text NOT NULL,
      description text NOT NULL, price_cents integer NOT NULL, stock integer NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await client.query(
      `INSERT INTO ${products} (id, category_id, name, description, price_cents, stock)
       SELECT g, ((g - 1) % ${CATEGORIES}) + 1, 'Product ' || g,
         'A catalogue item with a description of a realistic length: ' || md5(g::text) || ' ' ||
         md5((g * 7)::text) || ' ' || md5((g * 13)::text),
         100 + (g * 37) % 100000, (g * 11) % 500
       FROM generate_series(1, ${PRODUCTS}) AS g`,
    );
    await client.query(`CREATE INDEX ON ${products} (category_id, id)`);
    await client.query(`CREATE TABLE ${orders} (
      id bigserial PRIMARY KEY, product_id integer NOT NULL, quantity integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await client.query(`ANALYZE ${products}`);
  } finally {
    await client.end();
  }
}

/** Drops the run's tables. */
export async function dropTables(base: string): Promise<void> {
  const { products, orders } = tableNames(base);
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS ${products}, ${orders}`);
  } finally {
    await client.end();
  }
}
