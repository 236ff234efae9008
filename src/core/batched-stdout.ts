import { writeSync } from 'node:fs';

/** Pending lines are written once they reach this many characters. */
const BATCH_CHARS = 16 * 1024;
/** ...or this long after the first line of a batch. */
const BATCH_MS = 100;
/** How long a flush waits in all for a full pipe to take the rest of a batch before dropping it. */
const STALL_MS = 1_000;
/** The pause between two attempts to write to a full pipe. */
const RETRY_MS = 5;

/** Error codes of a full non-blocking pipe: wait and write again. */
const FULL = new Set(['EAGAIN', 'EWOULDBLOCK', 'EBUSY']);

const NEWLINE = 0x0a;

let pauseCell: Int32Array | undefined;

/** Blocks the thread for `ms`, as a synchronous write to a full pipe would. */
function pause(ms: number): void {
  pauseCell ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(pauseCell, 0, 0, ms);
}

function isFull(error: unknown): boolean {
  return FULL.has((error as { code?: unknown } | null)?.code as string);
}

/**
 * A destination for log lines on a file descriptor (stdout by default). Lines are collected in a
 * string and written together with one synchronous write once 16 Ki characters are pending or
 * 100 ms after the first line of a batch (a one-shot unref'd timer, armed only while lines wait),
 * and when the process exits, uncaught exceptions included. A busy service makes one system call
 * per hundred lines or so instead of one per line.
 *
 * The batch is written as a string, encoded once by Node.js (sonic-boom encoded each batch three
 * times). A full pipe is waited for, a closed one (EPIPE) ends the writing silently, and a reader
 * stalled for a second costs whole lines, never a service that stops. (A descriptor in blocking
 * mode blocks in the kernel instead, as any synchronous write does.)
 *
 * A process killed with SIGKILL, or by a signal it does not handle, loses at most the last 100 ms
 * of lines.
 *
 * A caller may also keep lines back and have them produced on demand ({@link defer}): before
 * the next line anyone writes, and at the next flush.
 *
 * @internal
 */
export class BatchedStdout {
  readonly #fd: number;
  #pending = '';
  #timer: NodeJS.Timeout | undefined;
  #hooked = false;
  #broken = false;
  /** The rest of a line a stalled write left half-written, written before anything else. */
  #carry: Buffer | undefined;
  /** The last batch stalled: until one is written whole, a full pipe drops a batch at once. */
  #stalled = false;

  /** Writers of lines kept back elsewhere, run before the next line is written (see {@link defer}). */
  readonly #producers = new Set<() => void>();
  #producing = false;

  constructor(fd = 1) {
    this.#fd = fd;
  }

  /**
   * Registers `produce`, which writes (with {@link write}) lines its caller has kept back: it runs
   * before any other line is written, so lines stay in order, and at the next flush, so a kept-back
   * line waits no longer than a written one.
   */
  defer(produce: () => void): void {
    this.#producers.add(produce);
    this.#hook();
    this.#arm();
  }

  /** Arms the flush timer unless it is armed already. */
  #arm(): void {
    if (this.#timer === undefined) {
      this.#timer = setTimeout(this.flush, BATCH_MS);
      this.#timer.unref();
    }
  }

  #produce(): void {
    this.#producing = true;
    try {
      for (const produce of this.#producers) {
        this.#producers.delete(produce);
        try {
          produce();
        } catch {
          // A producer that throws loses its own lines, not the others'.
        }
      }
    } finally {
      this.#producing = false;
    }
  }

  #hook(): void {
    if (!this.#hooked) {
      this.#hooked = true;
      process.once('exit', this.flush);
    }
  }

  write(line: string): void {
    if (this.#producers.size > 0 && !this.#producing) this.#produce();
    if (this.#broken) return;
    this.#hook();
    this.#pending += line;
    if (this.#pending.length >= BATCH_CHARS) {
      this.flush();
    } else {
      this.#arm();
    }
  }

  /** Writes the pending lines now. */
  readonly flush = (): void => {
    if (this.#producers.size > 0 && !this.#producing) this.#produce();
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const chunk = this.#pending;
    if (chunk === '') return;
    this.#pending = '';
    const carry = this.#carry;
    if (carry !== undefined) {
      this.#carry = undefined;
      if (!this.#writeAll(carry, carry.length)) {
        // Nothing of it went out: it is still the end of a cut line, kept whole.
        if (!this.#broken) this.#carry ??= carry;
        return;
      }
    }
    this.#writeAll(chunk, Buffer.byteLength(chunk));
  };

  /**
   * Writes all of `data` (`size` bytes) synchronously. A non-blocking pipe that is full (its reader
   * is slow) takes part of a write or none of it; the rest is written as the pipe drains, for at
   * most {@link STALL_MS} (not at all while the pipe stays stalled). Returns `false` when the data
   * could not be written whole: the destination is gone (a closed pipe, a bad descriptor; writing
   * stops), or the pipe stalled (the rest is dropped, but for the end of the line it cut, kept in
   * `#carry`).
   */
  #writeAll(data: string | Buffer, size: number): boolean {
    let written = 0;
    try {
      // A string is encoded once, by the write itself; bytes are made only for a rest.
      written =
        typeof data === 'string' ? writeSync(this.#fd, data) : writeSync(this.#fd, data, 0, size);
    } catch (error) {
      if (!isFull(error)) return this.#stop();
    }
    if (written >= size) {
      this.#stalled = false;
      return true;
    }
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const deadline = this.#stalled ? 0 : Date.now() + STALL_MS;
    while (written < size) {
      try {
        written += writeSync(this.#fd, bytes, written);
        continue;
      } catch (error) {
        if (!isFull(error)) return this.#stop();
      }
      if (Date.now() >= deadline) {
        if (written > 0 && bytes[written - 1] !== NEWLINE) {
          const end = bytes.indexOf(NEWLINE, written);
          this.#carry = Buffer.from(bytes.subarray(written, end === -1 ? size : end + 1));
        }
        this.#stalled = true;
        return false;
      }
      pause(RETRY_MS);
    }
    this.#stalled = false;
    return true;
  }

  #stop(): false {
    this.#broken = true;
    this.#pending = '';
    return false;
  }
}
