import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchedStdout } from '../../src/core/batched-stdout.js';

const opened: number[] = [];

/** A BatchedStdout on a fresh file, and a reader of what the file holds. */
function onFile() {
  const path = join(mkdtempSync(join(tmpdir(), 'batched-stdout-')), 'out.log');
  const fd = openSync(path, 'w');
  opened.push(fd);
  return { out: new BatchedStdout(fd), read: () => readFileSync(path, 'utf8') };
}

afterEach(() => {
  for (const fd of opened.splice(0)) closeSync(fd);
});

describe('BatchedStdout.defer', () => {
  it('runs a producer before the next line, so kept-back lines keep their place', () => {
    const { out, read } = onFile();
    out.defer(() => out.write('kept back\n'));
    out.write('written after\n');
    out.flush();
    expect(read()).toBe('kept back\nwritten after\n');
  });

  it('runs a producer once, at the next flush when no line comes first', async () => {
    const { out, read } = onFile();
    let calls = 0;
    out.defer(() => {
      calls++;
      out.write('late\n');
    });
    // No write and no flush by hand: the timer armed by defer() flushes within 100 ms.
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(read()).toBe('late\n');
    out.flush();
    out.write('next\n');
    out.flush();
    expect(calls).toBe(1);
    expect(read()).toBe('late\nnext\n');
  });

  it('loses only the lines of a producer that throws', () => {
    const { out, read } = onFile();
    out.defer(() => {
      throw new Error('broken producer');
    });
    out.defer(() => out.write('second producer\n'));
    expect(() => out.write('line\n')).not.toThrow();
    out.flush();
    expect(read()).toBe('second producer\nline\n');
  });
});
