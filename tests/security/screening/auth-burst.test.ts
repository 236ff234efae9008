import { describe, expect, it } from 'vitest';
import { createAuthBurstTracker } from '../../../src/security/screening/index.js';

describe('createAuthBurstTracker', () => {
  it('reports `threshold` refused responses within the window, once per window', () => {
    const tracker = createAuthBurstTracker({ threshold: 5, window: '10s' });
    const events = [];
    for (let i = 0; i < 12; i++)
      events.push(tracker.recordResponse('203.0.113.7', 401, 1_000 + i * 100));
    const fired = events.map((e, i) => (e ? i : -1)).filter((i) => i >= 0);
    expect(fired).toEqual([4]);
    expect(events[4]).toMatchObject({
      category: 'auth-burst',
      rule: 'burst.refused-responses',
      client: '203.0.113.7',
      location: 'responses',
      blocked: false,
      at: 1_400,
      confidence: 0.7,
    });
    expect(events[4]!.evidence).toBe('5 responses 401/403/404 within 400 ms');
    // A window after the burst, a new burst is reported again.
    for (let i = 0; i < 5; i++) tracker.recordResponse('203.0.113.7', 403, 12_000 + i);
    expect(tracker.recordResponse('203.0.113.7', 403, 12_010)).toBeUndefined();
  });

  it('does not count slow failures, nor other statuses', () => {
    const tracker = createAuthBurstTracker({ threshold: 3, window: '1s' });
    for (let i = 0; i < 20; i++) {
      expect(tracker.recordResponse('c', 401, i * 600)).toBeUndefined();
      expect(tracker.recordResponse('c', 200, i * 600 + 1)).toBeUndefined();
      expect(tracker.recordResponse('c', 500, i * 600 + 2)).toBeUndefined();
    }
  });

  it('counts statuses given in options only', () => {
    const tracker = createAuthBurstTracker({ threshold: 2, window: '1s', statuses: [429] });
    tracker.recordResponse('c', 404, 0);
    expect(tracker.recordResponse('c', 404, 1)).toBeUndefined();
    tracker.recordResponse('c', 429, 2);
    expect(tracker.recordResponse('c', 429, 3)?.evidence).toBe('2 responses 429 within 1 ms');
  });

  it('keeps clients apart', () => {
    const tracker = createAuthBurstTracker({ threshold: 2, window: '1s' });
    expect(tracker.recordResponse('a', 401, 0)).toBeUndefined();
    expect(tracker.recordResponse('b', 401, 1)).toBeUndefined();
    expect(tracker.recordResponse('a', 401, 2)?.client).toBe('a');
  });

  it('remembers maxClients clients at most, forgetting the least recently seen', () => {
    const tracker = createAuthBurstTracker({ threshold: 2, window: '1m', maxClients: 100 });
    for (let i = 0; i < 1_000; i++) tracker.recordResponse(`client-${i}`, 401, i);
    expect(tracker.size).toBe(100);
    // client-0 was forgotten: its next failure starts over.
    expect(tracker.recordResponse('client-0', 401, 2_000)).toBeUndefined();
    // client-999 is remembered: its second failure is a burst.
    expect(tracker.recordResponse('client-999', 401, 2_001)).toBeDefined();
    tracker.clear();
    expect(tracker.size).toBe(0);
  });

  it('forgets clients whose failures are older than the window', () => {
    const tracker = createAuthBurstTracker({ threshold: 5, window: '1s' });
    for (let i = 0; i < 50; i++) tracker.recordResponse(`old-${i}`, 401, 0);
    for (let i = 0; i < 50; i++) tracker.recordResponse(`new-${i}`, 401, 10_000 + i);
    expect(tracker.size).toBeLessThanOrEqual(50);
  });

  it('uses the clock given when no time is passed', () => {
    let now = 0;
    const tracker = createAuthBurstTracker({ threshold: 2, window: '1s' }, () => now);
    tracker.recordResponse('c', 401);
    now = 500;
    expect(tracker.recordResponse('c', 401)?.at).toBe(500);
  });
});
