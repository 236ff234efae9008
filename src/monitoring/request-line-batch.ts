import type { RawLineWriter } from '../core/logger.js';
import type { TraceContext } from '../core/trace-context.js';

/** Lines kept back at most; the batch is written at once when it is full. */
const CAPACITY = 512;

/**
 * The request log lines of one logger, kept back as their parts and formatted together when the
 * destination writes its next batch (see {@link RawLineWriter.defer}), or when {@link CAPACITY}
 * lines wait: formatting lines in one loop costs less than one at a time between requests. Each
 * line keeps the time its request ended and its place among the destination's other lines.
 *
 * @internal
 */
export class RequestLineBatch {
  readonly #raw: RawLineWriter;
  readonly #message: string;
  #count = 0;
  readonly #heads: string[] = new Array<string>(CAPACITY).fill('');
  readonly #ids: string[] = new Array<string>(CAPACITY).fill('');
  readonly #traces: (TraceContext | undefined)[] = new Array<TraceContext | undefined>(CAPACITY);
  readonly #status = new Float64Array(CAPACITY);
  readonly #aborted = new Uint8Array(CAPACITY);
  readonly #durations = new Float64Array(CAPACITY);
  readonly #times = new Float64Array(CAPACITY);
  readonly #drain = (): void => this.drain();

  /** @param message - the message of every line. */
  constructor(raw: RawLineWriter, message: string) {
    this.#raw = raw;
    this.#message = message;
  }

  /**
   * Keeps back one line, unless its level is off: `head` is its `"method":…,"route":…,` members,
   * `correlationId` needs no JSON escaping, nor do the hex ids of `trace`. Failed requests (`aborted`, status 500 and above) are
   * logged at `warn`, the others at `info`.
   */
  add(
    head: string,
    status: number,
    durationMs: number,
    correlationId: string,
    aborted: boolean,
    trace?: TraceContext,
  ): void {
    if (!this.#raw.enabled(aborted || status >= 500 ? 'warn' : 'info')) return;
    const i = this.#count;
    this.#heads[i] = head;
    this.#ids[i] = correlationId;
    this.#traces[i] = trace;
    this.#status[i] = status;
    this.#aborted[i] = aborted ? 1 : 0;
    this.#durations[i] = durationMs;
    this.#times[i] = Date.now();
    this.#count = i + 1;
    // The first line of a batch asks the destination to call back; a destination that cannot
    // (a host's stream) gets each line at once, as before.
    if ((i === 0 && !this.#raw.defer(this.#drain)) || i + 1 === CAPACITY) this.drain();
  }

  /** Writes the lines kept back. */
  drain(): void {
    const count = this.#count;
    this.#count = 0;
    for (let i = 0; i < count; i++) {
      const status = this.#status[i]!;
      const aborted = this.#aborted[i] === 1;
      const trace = this.#traces[i];
      this.#raw.writeAt(
        aborted || status >= 500 ? 'warn' : 'info',
        this.#times[i]!,
        `${this.#heads[i]}"status":${jsonNumber(status)},"durationMs":${millisecondsJson(this.#durations[i]!)},"correlationId":"${this.#ids[i]}",${trace === undefined ? '' : `"traceId":"${trace.traceId}","spanId":"${trace.spanId}",`}"aborted":${aborted}`,
        this.#message,
      );
      // Not kept alive until the slot is reused.
      this.#ids[i] = '';
      this.#traces[i] = undefined;
    }
  }
}

/** A number as JSON: `null` when not finite, as `JSON.stringify` writes it. @internal */
export function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/** `.001` to `.999` without trailing zeros, index = thousandths; built on first use. */
let fractions: string[] | undefined;

/**
 * `durationMs` rounded to the microsecond, as `JSON.stringify(Math.round(ms * 1000) / 1000)` writes
 * it (`null` when not finite), but joined from integers: a fractional double's text costs most.
 */
export function millisecondsJson(durationMs: number): string {
  const micros = Math.round(durationMs * 1000);
  if (!(micros >= 0 && micros < 2_147_483_648)) return jsonNumber(micros / 1000);
  const whole = (micros / 1000) | 0;
  const thousandths = micros - whole * 1000;
  if (thousandths === 0) return `${whole}`;
  fractions ??= Array.from({ length: 1000 }, (_, i) =>
    `.${String(i).padStart(3, '0')}`.replace(/0+$/, ''),
  );
  return `${whole}${fractions[thousandths]}`;
}
