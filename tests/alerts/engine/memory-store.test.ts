import { describe, expect, it } from 'vitest';
import { MemoryAlertStore } from '../../../src/alerts/memory-store.js';
import type { AlertTransition } from '../../../src/alerts/types.js';
import { EPOCH, fakeClock } from './helpers.js';

describe('MemoryAlertStore', () => {
  it('keeps answering claims right while it holds thousands, expired ones among them', async () => {
    const clock = fakeClock();
    const store = new MemoryAlertStore({ clock });
    for (let i = 0; i < 1_500; i++) expect(await store.claim(`old:${i}`, 100)).toBe(true);
    clock.advance(150);
    for (let i = 0; i < 1_500; i++) expect(await store.claim(`new:${i}`, 1_000)).toBe(true);
    // The old claims expired: each can be claimed again; the new ones hold.
    for (let i = 0; i < 1_500; i += 7) expect(await store.claim(`old:${i}`, 1_000)).toBe(true);
    for (let i = 0; i < 1_500; i += 7) expect(await store.claim(`new:${i}`, 1_000)).toBe(false);
    clock.advance(1_001);
    expect(await store.claim('new:0', 1_000)).toBe(true);
  });

  it('keeps its own copy of each transition recorded', async () => {
    const store = new MemoryAlertStore({ clock: fakeClock() });
    const transition: AlertTransition = {
      fingerprint: 'f',
      rule: 'R',
      from: 'pending',
      to: 'firing',
      at: new Date(EPOCH).toISOString(),
      severity: 'warning',
      labels: { alertname: 'R', host: 'a' },
      value: 3,
    };
    await store.record(transition, 10);
    (transition.labels as Record<string, string>).host = 'changed';
    transition.value = 4;
    expect(await store.history(10)).toEqual([
      { ...transition, labels: { alertname: 'R', host: 'a' }, value: 3 },
    ]);
    for (let i = 0; i < 12; i++) await store.record({ ...transition, fingerprint: `f${i}` }, 10);
    expect((await store.history(20)).map((t) => t.fingerprint)).toEqual(
      Array.from({ length: 10 }, (_, i) => `f${11 - i}`),
    );
  });
});
