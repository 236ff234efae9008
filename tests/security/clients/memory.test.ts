import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ClientRisk } from '../../../src/security/clients/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap and array buffers after a full collection. */
function used(): number {
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

function clientKey(i: number): string {
  return i % 10 === 0
    ? `2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`
    : `${10 + (i >>> 24)}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

describe('client risk memory', () => {
  it('holds 100,000 clients in well under 100 MB, and stays there as more arrive', () => {
    const before = used();
    const risk = new ClientRisk({ maxClients: 100_000 });
    const feed = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const client = clientKey(i);
        risk.recordLoginFailure(client);
        risk.recordResponse(client, 404);
      }
    };
    feed(0, 100_000);
    expect(risk.size).toBe(100_000);
    const full = used() - before;
    feed(100_000, 400_000);
    expect(risk.size).toBeLessThanOrEqual(100_000);
    const after = used() - before;
    // bench/security-clients.ts measures about 13 MB; the bound leaves room for other runtimes.
    expect(full).toBeLessThan(100 * 1_048_576);
    expect(after).toBeLessThan(100 * 1_048_576);
    expect(risk.top(1)).toHaveLength(1);
  });
});
