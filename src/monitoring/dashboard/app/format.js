// Formatting of snapshot values for display, and the shaping of snapshot sections into lists:
// every section may be missing or null (a module not in use), so each helper tolerates that.

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** A finite number (not NaN, not a string). */
export const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);

/** A number with at most one decimal; '–' when missing. */
export function fmtNumber(value) {
  return isNumber(value) ? numberFormat.format(value) : '–';
}

/** A whole number; '–' when missing. */
export function fmtInteger(value) {
  return isNumber(value) ? integerFormat.format(value) : '–';
}

/** A duration in milliseconds, in s above a second; '–' when missing. */
export function fmtMs(value) {
  if (!isNumber(value)) return '–';
  if (value >= 1000) return `${numberFormat.format(value / 1000)} s`;
  if (value >= 10 || value === 0) return `${integerFormat.format(value)} ms`;
  return `${value.toFixed(value < 1 ? 2 : 1)} ms`;
}

/** A percentage given as 0..100. */
export function fmtPercent(value) {
  return isNumber(value) ? `${numberFormat.format(value)} %` : '–';
}

/** A 0..1 ratio as a percentage. */
export function fmtRatio(value) {
  return isNumber(value) ? `${numberFormat.format(value * 100)} %` : '–';
}

/** A size in bytes, in binary units. */
export function fmtBytes(value) {
  if (!isNumber(value)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = value;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return `${numberFormat.format(n)} ${units[unit]}`;
}

/** Seconds as days, hours, minutes and seconds. */
export function fmtUptime(seconds) {
  if (!isNumber(seconds)) return '–';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${s % 60}s`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** Epoch milliseconds or an ISO string to epoch milliseconds (NaN when neither). */
export function toEpochMs(value) {
  if (isNumber(value)) return value;
  if (typeof value === 'string') return Date.parse(value);
  return Number.NaN;
}

/** The local time of day of an instant. */
export function fmtTime(value) {
  const ms = toEpochMs(value);
  return Number.isFinite(ms) ? new Date(ms).toLocaleTimeString() : '–';
}

/** The local date and time of an instant. */
export function fmtDateTime(value) {
  const ms = toEpochMs(value);
  return Number.isFinite(ms) ? new Date(ms).toLocaleString() : '–';
}

/** Metric labels as `key=value` pairs. */
export function fmtLabels(labels) {
  if (!labels || typeof labels !== 'object') return '';
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

/** A record `{ name: {...} }` or an array `[{ name, ... }]` as an array of objects with `name`. */
export function asNamedList(value) {
  if (Array.isArray(value)) return value.filter((item) => item && typeof item === 'object');
  if (value && typeof value === 'object') {
    return Object.entries(value).map(([name, item]) => ({ name, ...item }));
  }
  return [];
}

/** The hit ratio of a cache figure, computed from hits and misses when not given. */
export function ratioOf(item) {
  if (isNumber(item.hitRatio)) return item.hitRatio;
  const total = (item.hits ?? 0) + (item.misses ?? 0);
  return total > 0 ? item.hits / total : null;
}

/** A module's figures, or null when the instance has none or has not built it yet. */
export function builtOrNull(figures) {
  return figures && figures.enabled !== false ? figures : null;
}
