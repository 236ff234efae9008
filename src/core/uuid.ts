import { randomFillSync } from 'node:crypto';

/** UUIDs made per fill of the random pool. */
const BATCH = 256;
const UUID_LENGTH = 36;
const HEX = Buffer.from('0123456789abcdef', 'latin1');

let random: Buffer | undefined;
let text: Buffer | undefined;
let next = BATCH;

/** Draws random bytes for the next {@link BATCH} UUIDs and writes their text, dashes included. */
function refill(): void {
  random ??= Buffer.allocUnsafe(BATCH * 16);
  text ??= Buffer.allocUnsafe(BATCH * UUID_LENGTH);
  randomFillSync(random);
  let out = 0;
  for (let i = 0; i < BATCH; i++) {
    const at = i * 16;
    random[at + 6] = (random[at + 6]! & 0x0f) | 0x40; // version 4
    random[at + 8] = (random[at + 8]! & 0x3f) | 0x80; // variant 10xx (RFC 9562)
    for (let b = 0; b < 16; b++) {
      if (b === 4 || b === 6 || b === 8 || b === 10) text[out++] = 0x2d; // '-'
      const byte = random[at + b]!;
      text[out++] = HEX[byte >> 4]!;
      text[out++] = HEX[byte & 0x0f]!;
    }
  }
  next = 0;
}

/**
 * A random (version 4) UUID, as `crypto.randomUUID()` makes one: 122 bits from the operating
 * system's CSPRNG, drawn a batch at a time.
 *
 * The difference is the string. `crypto.randomUUID()` (Node.js 20 to 24) joins twenty pieces, so
 * each id is a tree of about twenty string objects until something flattens it. An HTTP server
 * makes one id per request and keeps it for the request's life (context, response header, log
 * line), and every young-generation collection copies the trees of the requests in flight: under
 * load those copies cost many times the call itself, which a loop that drops each id never shows.
 * Here each id is one flat string, cut from text written for the whole batch.
 *
 * @example
 * ```ts
 * uuid(); // '3b241101-e2bb-4255-8caf-4136c566a962'
 * ```
 */
export function uuid(): string {
  if (next === BATCH) refill();
  const start = next++ * UUID_LENGTH;
  return text!.toString('latin1', start, start + UUID_LENGTH);
}
