/**
 * One of the latest events, as `recent()` shows it: the pseudonym, never the user id.
 *
 * @example
 * ```ts
 * const seen: RecentEvent = { event: 'signup', user: '9f86d081884c7d65', at: '2024-05-01T10:00:00.000Z', properties: { plan: 'pro' } };
 * ```
 */
export interface RecentEvent {
  readonly event: string;
  readonly user?: string;
  readonly at: string;
  readonly properties?: Readonly<Record<string, string | number | boolean | null>>;
}

const MAX_PROPERTIES = 20;
const MAX_STRING = 200;

/**
 * @internal The latest `size` events of this process in a ring, properties reduced to at most 20
 * scalar values (strings cut at 200 characters): raw data kept, but bounded, and only here.
 */
export class RecentEvents {
  readonly #ring: (RecentEvent | undefined)[];
  #next = 0;

  constructor(readonly size: number) {
    this.#ring = new Array(size);
  }

  add(event: string, user: string | undefined, at: number, properties: object | undefined): void {
    if (this.size === 0) return;
    this.#ring[this.#next] = {
      event,
      ...(user === undefined ? {} : { user }),
      at: new Date(at).toISOString(),
      ...(properties === undefined ? {} : { properties: scalars(properties) }),
    };
    this.#next = (this.#next + 1) % this.size;
  }

  /** The latest `limit` events, newest first. */
  list(limit = this.size): RecentEvent[] {
    const out: RecentEvent[] = [];
    for (let i = 1; i <= this.size && out.length < limit; i++) {
      const entry = this.#ring[(this.#next - i + this.size) % this.size];
      if (entry === undefined) break;
      out.push(entry);
    }
    return out;
  }
}

function scalars(properties: object): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = Object.create(null);
  let n = 0;
  for (const key of Object.keys(properties)) {
    if (n >= MAX_PROPERTIES) break;
    const value = (properties as Record<string, unknown>)[key];
    if (typeof value === 'string')
      out[key] = value.length > MAX_STRING ? value.slice(0, MAX_STRING) : value;
    else if (
      (typeof value === 'number' && Number.isFinite(value)) ||
      typeof value === 'boolean' ||
      value === null
    )
      out[key] = value;
    else continue;
    n++;
  }
  return out;
}
