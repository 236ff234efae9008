import * as zlib from 'node:zlib';

/**
 * CRC-32 (ISO-HDLC, the polynomial of zlib, gzip and PNG) of `data`, continuing from `previous`.
 *
 * The codec uses it as the integrity check of unencrypted entries. `zlib.crc32` is native but only
 * exists from Node 20.15 / 22.2; on older Node 20 releases the table-driven {@link crc32Js} runs
 * instead and gives the same result, so entries written by either are readable by the other.
 *
 * @internal
 * @example
 * ```ts
 * crc32(Buffer.from('123456789')); // 0xcbf43926
 * ```
 */
export const crc32: (data: Uint8Array, previous?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (data, previous = 0) => zlib.crc32(data, previous)
    : crc32Js;

// Built lazily: on Node versions with a native crc32 the table is never needed.
let table: Uint32Array | undefined;

function buildTable(): Uint32Array {
  const result = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    result[n] = c >>> 0;
  }
  return result;
}

/**
 * The portable CRC-32 used when `zlib.crc32` is missing (Node < 20.15). Exported so tests can check
 * it against the native one.
 *
 * @internal
 * @example
 * ```ts
 * crc32Js(Buffer.from('123456789')) === zlib.crc32(Buffer.from('123456789')); // true
 * ```
 */
export function crc32Js(data: Uint8Array, previous = 0): number {
  const t = (table ??= buildTable());
  let crc = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) {
    crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return ~crc >>> 0;
}
