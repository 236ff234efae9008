// Short renderings of numbers and durations for verdict reasons ("reaches 1.5e9 in 38m"). Built
// from integers: an anomaly detector renders its reason on every evaluation, and the shortest
// round-trip conversion of a fractional double costs several times more than of an integer.

const POWERS = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
const ZEROS = ['', '0', '00', '000', '0000', '00000', '000000'];

/**
 * A number in four significant digits, trailing zeros dropped; very large and very small
 * magnitudes in compact exponent form (`1.5e9`, `2.1e-5`).
 *
 * @example
 * ```ts
 * formatValue(1_500_000_000); // '1.5e9'
 * formatValue(182.456); // '182.5'
 * ```
 */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '0';
  if (magnitude >= 1e6 || magnitude < 1e-3) {
    const [mantissa, exponent] = value.toExponential(2).split('e') as [string, string];
    return `${trimZeros(mantissa)}e${exponent.replace('+', '')}`;
  }
  const decimals = Math.max(0, 3 - Math.floor(Math.log10(magnitude)));
  const scale = POWERS[decimals]!;
  const scaled = Math.round(magnitude * scale);
  const whole = Math.floor(scaled / scale);
  let fraction = scaled - whole * scale;
  let digits = decimals;
  while (digits > 0 && fraction % 10 === 0) {
    fraction /= 10;
    digits--;
  }
  const sign = value < 0 ? '-' : '';
  if (digits === 0) return `${sign}${whole}`;
  const text = `${fraction}`;
  return `${sign}${whole}.${ZEROS[digits - text.length]}${text}`;
}

/**
 * A duration in its two largest units: `45s`, `38m`, `2h 5m`, `3d 4h`.
 *
 * @example
 * ```ts
 * formatSpan(2_280_000); // '38m'
 * ```
 */
export function formatSpan(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const seconds = Math.max(0, Math.round(ms / 1_000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours}h` : `${hours}h ${minutes % 60}m`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days}d` : `${days}d ${hours % 24}h`;
}

function trimZeros(mantissa: string): string {
  return mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
}
