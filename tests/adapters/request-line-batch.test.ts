import { describe, expect, it } from 'vitest';
import type { RawLineWriter } from '../../src/core/logger.js';
import { RequestLineBatch } from '../../src/monitoring/request-line-batch.js';

/** A raw writer that records what it is asked to write; `defers` says whether it can call back. */
function recordingWriter(defers: boolean, level: 'info' | 'warn' = 'info') {
  const written: { level: string; timeMs: number; fields: string; message: string }[] = [];
  const callbacks: (() => void)[] = [];
  const writer: RawLineWriter = {
    write: () => {
      throw new Error('not used by the batch');
    },
    writeAt: (lineLevel, timeMs, fields, message) => {
      written.push({ level: lineLevel, timeMs, fields, message });
    },
    enabled: (lineLevel) => level === 'info' || lineLevel === 'warn',
    defer: (produce) => {
      if (defers) callbacks.push(produce);
      return defers;
    },
  };
  return { writer, written, callbacks };
}

const HEAD = '"method":"GET","route":"/x",';

describe('RequestLineBatch', () => {
  it('keeps lines back until the destination calls back, then writes them in order with their own time', () => {
    const { writer, written, callbacks } = recordingWriter(true);
    const batch = new RequestLineBatch(writer, 'request completed');
    const before = Date.now();
    batch.add(HEAD, 200, 1.5, 'id-1', false);
    batch.add(HEAD, 503, 2, 'id-2', false);
    batch.add(HEAD, 200, 0.0004, 'id-3', true);
    expect(written).toHaveLength(0);
    // One callback per batch, asked for by its first line.
    expect(callbacks).toHaveLength(1);
    callbacks[0]!();
    expect(written.map((line) => [line.level, line.fields, line.message])).toEqual([
      [
        'info',
        `${HEAD}"status":200,"durationMs":1.5,"correlationId":"id-1","aborted":false`,
        'request completed',
      ],
      [
        'warn',
        `${HEAD}"status":503,"durationMs":2,"correlationId":"id-2","aborted":false`,
        'request completed',
      ],
      [
        'warn',
        `${HEAD}"status":200,"durationMs":0,"correlationId":"id-3","aborted":true`,
        'request completed',
      ],
    ]);
    for (const line of written) {
      expect(line.timeMs).toBeGreaterThanOrEqual(before);
      expect(line.timeMs).toBeLessThanOrEqual(Date.now());
    }
    // Drained: a second call writes nothing; the next line starts a new batch.
    callbacks[0]!();
    expect(written).toHaveLength(3);
    batch.add(HEAD, 200, 1, 'id-4', false);
    expect(callbacks).toHaveLength(2);
  });

  it('writes each line at once to a destination that cannot call back', () => {
    const { writer, written } = recordingWriter(false);
    const batch = new RequestLineBatch(writer, 'request completed');
    batch.add(HEAD, 200, 1, 'id-1', false);
    expect(written).toHaveLength(1);
    batch.add(HEAD, 200, 1, 'id-2', false);
    expect(written.map((line) => line.fields.includes('"id-2"'))).toEqual([false, true]);
  });

  it('writes a full batch without waiting for the callback', () => {
    const { writer, written, callbacks } = recordingWriter(true);
    const batch = new RequestLineBatch(writer, 'request completed');
    for (let i = 0; i < 511; i++) batch.add(HEAD, 200, 1, `id-${i}`, false);
    expect(written).toHaveLength(0);
    batch.add(HEAD, 200, 1, 'id-511', false);
    expect(written).toHaveLength(512);
    expect(written.at(-1)!.fields).toContain('"id-511"');
    callbacks[0]!();
    expect(written).toHaveLength(512);
  });

  it('keeps back no line whose level is off when the request ends', () => {
    const { writer, written, callbacks } = recordingWriter(true, 'warn');
    const batch = new RequestLineBatch(writer, 'request completed');
    batch.add(HEAD, 200, 1, 'ok', false);
    batch.add(HEAD, 500, 1, 'failed', false);
    batch.drain();
    expect(written.map((line) => line.fields.includes('"failed"'))).toEqual([true]);
    expect(callbacks).toHaveLength(1);
  });
});
