import { randomFillSync } from 'node:crypto';

/** UUIDs made per fill of the random pool. */
const BATCH = 256;
const UUID_LENGTH = 36;
const DASH = 0x2d;
/**
 * The character codes of each byte's two hex digits: `HEX[2 * byte]` (its high four bits, so
 * `(2 * byte) >> 5`) and `HEX[2 * byte + 1]` (its low four bits).
 */
const HEX = Uint8Array.from({ length: 512 }, (_, i) =>
  '0123456789abcdef'.charCodeAt(i % 2 === 0 ? i >> 5 : (i >> 1) & 0x0f),
);
/** Where the digits of each of a UUID's 16 bytes start in its text (dashes at 8, 13, 18 and 23). */
const DIGIT_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34] as const;

let random: Uint8Array | undefined;
/** The character codes of the batch's UUIDs, dashes included. */
let codes: Uint8Array | undefined;
let next = BATCH;

/** Draws random bytes for the next {@link BATCH} UUIDs and writes their character codes. */
function refill(): Uint8Array {
  random ??= new Uint8Array(BATCH * 16);
  codes ??= new Uint8Array(BATCH * UUID_LENGTH).fill(DASH);
  randomFillSync(random);
  for (let i = 0; i < BATCH; i++) {
    const from = i * 16;
    const to = i * UUID_LENGTH;
    random[from + 6] = (random[from + 6]! & 0x0f) | 0x40; // version 4
    random[from + 8] = (random[from + 8]! & 0x3f) | 0x80; // variant 10xx (RFC 9562)
    for (let b = 0; b < 16; b++) {
      const digits = random[from + b]! << 1;
      const at = to + DIGIT_AT[b]!;
      codes[at] = HEX[digits]!;
      codes[at + 1] = HEX[digits + 1]!;
    }
  }
  next = 0;
  return codes;
}

/**
 * A random (version 4) UUID, as `crypto.randomUUID()` makes one: 122 bits from the operating
 * system's CSPRNG, drawn a batch at a time.
 *
 * The difference is the string: `crypto.randomUUID()` returns a tree of about twenty joined pieces,
 * which every young-generation collection copies while a request keeps its id. Here each id is one
 * flat string of its own (not a slice, which would keep the whole batch's text alive).
 *
 * @example
 * ```ts
 * uuid(); // '3b241101-e2bb-4255-8caf-4136c566a962'
 * ```
 */
export function uuid(): string {
  const c = next === BATCH ? refill() : codes!;
  const s = next++ * UUID_LENGTH;
  // Thirty-six arguments rather than a loop or an array: `String.fromCharCode` then writes one
  // flat string without leaving JavaScript, where `Buffer#toString` crosses into C++ for each id.
  return String.fromCharCode(
    c[s]!,
    c[s + 1]!,
    c[s + 2]!,
    c[s + 3]!,
    c[s + 4]!,
    c[s + 5]!,
    c[s + 6]!,
    c[s + 7]!,
    c[s + 8]!,
    c[s + 9]!,
    c[s + 10]!,
    c[s + 11]!,
    c[s + 12]!,
    c[s + 13]!,
    c[s + 14]!,
    c[s + 15]!,
    c[s + 16]!,
    c[s + 17]!,
    c[s + 18]!,
    c[s + 19]!,
    c[s + 20]!,
    c[s + 21]!,
    c[s + 22]!,
    c[s + 23]!,
    c[s + 24]!,
    c[s + 25]!,
    c[s + 26]!,
    c[s + 27]!,
    c[s + 28]!,
    c[s + 29]!,
    c[s + 30]!,
    c[s + 31]!,
    c[s + 32]!,
    c[s + 33]!,
    c[s + 34]!,
    c[s + 35]!,
  );
}
