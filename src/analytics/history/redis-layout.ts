import { hashTag } from '../../redis/keys.js';
import { luaScript } from '../../redis/scripts.js';
import { normalizeBuckets } from './buckets.js';
import { labelSetId } from './series-key.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './store-settings.js';
import type { MetricRollup, OperationRollup } from './types.js';

// Keys, fields and the write script of the Redis history store (private to redis-store.ts).
//
// Every key of one series name shares the hash tag `{o:<name>}` (or `{m:<name>}` for a figure), so
// the write script may touch them together on a Cluster:
//   <prefix>:{o:<name>}:sets                  ZSET  canonical labels -> last minute written
//   <prefix>:{o:<name>}:m:<set id>:<hour>     HASH  "<minute of hour>:<field>" -> value, + markers
//   <prefix>:{o:<name>}:h:<set id>:<day>      HASH  "<hour of day>:<field>" -> value
// and `<prefix>:index` (ZSET "o:<name>" -> last minute written) lists the names.
// Fields: c (calls), e (errors), s (slow), t (total ms), b<index> (bucket count) for operations;
// n (samples), u (sum), lo (min), hi (max) for figures.

export type SeriesKind = 'o' | 'm';

/** @internal The keys of one series name, under its hash tag. */
export class NameKeys {
  readonly base: string;
  readonly sets: string;

  constructor(prefix: string, kind: SeriesKind, name: string) {
    this.base = `${prefix}:${hashTag(`${kind}:${name}`)}`;
    this.sets = `${this.base}:sets`;
  }

  /** The hash of one label set's minutes in the hour starting at `hour`. */
  minutes(setId: string, hour: number): string {
    return `${this.base}:m:${setId}:${hour}`;
  }

  /** The hash of one label set's hours in the day starting at `day`. */
  hours(setId: string, day: number): string {
    return `${this.base}:h:${setId}:${day}`;
  }
}

/** The member of `<prefix>:index` naming a series. */
export const indexMember = (kind: SeriesKind, name: string) => `${kind}:${name}`;

/**
 * Applies one series' rollup to its minute and its hour, once per rollup id (a marker field in the
 * minute's hash), and notes the label set. KEYS: minute hash, hour hash, label sets.
 * ARGV: marker, minute expiry, hour expiry, minute field prefix, hour field prefix, labels, minute,
 * label-set expiry, whether the minute is still kept ('1' or ''), then (op, field, value) triples:
 * op `i` adds a whole number, `f` a float, `lo`/`hi` keep the smaller/larger value.
 */
export const WRITE_SERIES = luaScript(`
local function apply(key, field, op, v)
  if op == 'i' then redis.call('HINCRBY', key, field, v)
  elseif op == 'f' then redis.call('HINCRBYFLOAT', key, field, v)
  else
    local current = tonumber(redis.call('HGET', key, field))
    local n = tonumber(v)
    if current == nil or (op == 'lo' and n < current) or (op == 'hi' and n > current) then
      redis.call('HSET', key, field, v)
    end
  end
end
local minute = ARGV[9] == '1'
if minute and redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 0 then return 0 end
for i = 10, #ARGV, 3 do
  if minute then apply(KEYS[1], ARGV[4] .. ARGV[i + 1], ARGV[i], ARGV[i + 2]) end
  apply(KEYS[2], ARGV[5] .. ARGV[i + 1], ARGV[i], ARGV[i + 2])
end
if minute then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
local seen = redis.call('ZSCORE', KEYS[3], ARGV[6])
if not seen or tonumber(seen) < tonumber(ARGV[7]) then redis.call('ZADD', KEYS[3], ARGV[7], ARGV[6]) end
redis.call('PEXPIREAT', KEYS[3], ARGV[8])
return 1
`);

/** The (op, field, value) triples of an operation's rollup. */
export function operationTriples(op: OperationRollup): string[] {
  const triples = ['i', 'c', String(op.count), 'i', 'e', String(op.errors)];
  if (op.slow > 0) triples.push('i', 's', String(op.slow));
  triples.push('f', 't', String(op.sumMs));
  const { indexes, counts } = op.histogram;
  for (let i = 0; i < indexes.length; i++) triples.push('i', `b${indexes[i]}`, String(counts[i]));
  return triples;
}

/** The (op, field, value) triples of a figure's rollup. */
export function metricTriples(metric: MetricRollup): string[] {
  return [
    'i',
    'n',
    String(metric.samples),
    'f',
    'u',
    String(metric.sum),
    'lo',
    'lo',
    String(metric.min),
    'hi',
    'hi',
    String(metric.max),
  ];
}

/** @internal What the script needs to write one series' rollup, besides its triples. */
export function writeArguments(
  keys: NameKeys,
  canonical: string,
  rollup: { id: string; at: number },
  expiry: { minutesMs: number; hoursMs: number; now: number; keepMinute: boolean },
): { keys: string[]; args: string[] } {
  const setId = labelSetId(canonical);
  const hour = Math.floor(rollup.at / HOUR_MS) * HOUR_MS;
  const day = Math.floor(rollup.at / DAY_MS) * DAY_MS;
  return {
    keys: [keys.minutes(setId, hour), keys.hours(setId, day), keys.sets],
    args: [
      `w:${rollup.id}`,
      String(hour + HOUR_MS + expiry.minutesMs),
      String(day + DAY_MS + expiry.hoursMs),
      `${(rollup.at - hour) / MINUTE_MS}:`,
      `${(hour - day) / HOUR_MS}:`,
      canonical,
      String(rollup.at),
      String(expiry.now + expiry.hoursMs + DAY_MS),
      expiry.keepMinute ? '1' : '',
    ],
  };
}

/** One rollup read back from a hash: its offset in the hash's hour or day and its fields. */
export interface DecodedOperation {
  count: number;
  errors: number;
  slow: number;
  sumMs: number;
  buckets: [number, number][];
}

/** @internal Splits an operation hash into its rollups, by offset (minute of hour, hour of day). */
export function decodeOperations(hash: Record<string, string>): Map<number, DecodedOperation> {
  const cells = new Map<number, DecodedOperation>();
  for (const [field, raw] of Object.entries(hash)) {
    const colon = field.indexOf(':');
    if (colon <= 0 || field.startsWith('w:')) continue;
    const offset = Number(field.slice(0, colon));
    const name = field.slice(colon + 1);
    const value = Number(raw);
    if (!Number.isInteger(offset) || !Number.isFinite(value)) continue;
    let cell = cells.get(offset);
    if (cell === undefined) {
      cell = { count: 0, errors: 0, slow: 0, sumMs: 0, buckets: [] };
      cells.set(offset, cell);
    }
    if (name === 'c') cell.count = value;
    else if (name === 'e') cell.errors = value;
    else if (name === 's') cell.slow = value;
    else if (name === 't') cell.sumMs = value;
    else if (name.startsWith('b')) cell.buckets.push([Number(name.slice(1)), value]);
  }
  return cells;
}

/** @internal The buckets of a decoded rollup, ascending. */
export const bucketsOf = (cell: DecodedOperation) => normalizeBuckets(cell.buckets);

/** One figure rollup read back from a hash. */
export interface DecodedMetric {
  samples: number;
  sum: number;
  min: number;
  max: number;
}

/** @internal Splits a figure hash into its rollups, by offset. */
export function decodeMetrics(hash: Record<string, string>): Map<number, DecodedMetric> {
  const cells = new Map<number, DecodedMetric>();
  for (const [field, raw] of Object.entries(hash)) {
    const colon = field.indexOf(':');
    if (colon <= 0 || field.startsWith('w:')) continue;
    const offset = Number(field.slice(0, colon));
    const value = Number(raw);
    if (!Number.isInteger(offset) || !Number.isFinite(value)) continue;
    let cell = cells.get(offset);
    if (cell === undefined) {
      cell = { samples: 0, sum: 0, min: Number.NaN, max: Number.NaN };
      cells.set(offset, cell);
    }
    const name = field.slice(colon + 1);
    if (name === 'n') cell.samples = value;
    else if (name === 'u') cell.sum = value;
    else if (name === 'lo') cell.min = value;
    else if (name === 'hi') cell.max = value;
  }
  return cells;
}
