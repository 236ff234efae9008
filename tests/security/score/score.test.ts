import { describe, expect, it } from 'vitest';
import { SecurityConfigError } from '../../../src/security/errors.js';
import {
  type SecurityScoreEvent,
  type SecurityScoreInputs,
  SecurityScoreMonitor,
  securityScore,
} from '../../../src/security/score.js';

/** Ten minutes of an ordinary day: a few typos, a scanner hit now and then, all checks on. */
const QUIET: SecurityScoreInputs = {
  requests: 50_000,
  logins: { attempts: 600, failed: 30 },
  threats: 20,
  rateLimited: 15,
  bans: 0,
  clients: { total: 3_000, suspicious: 2 },
  config: { monitoringProtected: true, securityHeaders: true, httpsSeen: true },
};

const QUIET_WITHOUT_CONFIG: SecurityScoreInputs = { ...QUIET, config: undefined };

/** The same ten minutes under credential stuffing and a scanner sweep. */
const ATTACK: SecurityScoreInputs = {
  requests: 60_000,
  logins: { attempts: 5_600, failed: 5_050 },
  threats: 420,
  rateLimited: 2_400,
  bans: 25,
  clients: { total: 3_400, suspicious: 260 },
  config: { monitoringProtected: true, securityHeaders: true, httpsSeen: true },
};

const component = (inputs: SecurityScoreInputs, name: string) =>
  securityScore(inputs).components.find((c) => c.name === name)!;

describe('security score', () => {
  it('a quiet service scores above 90', () => {
    const result = securityScore(QUIET);
    expect(result.score).toBeGreaterThan(90);
    expect(result.components.map((c) => c.name)).toEqual([
      'failed-logins',
      'threats',
      'pressure',
      'suspicious-clients',
      'hygiene',
    ]);
    expect(result.components.reduce((sum, c) => sum + c.weight, 0)).toBeCloseTo(1, 9);
    for (const c of result.components) {
      expect(c.value).toBeGreaterThanOrEqual(0);
      expect(c.value).toBeLessThanOrEqual(1);
      expect(c.detail).not.toBe('');
    }
  });

  it('an attack drops it below 70', () => {
    const result = securityScore(ATTACK);
    expect(result.score).toBeLessThan(70);
    expect(component(ATTACK, 'failed-logins').value).toBe(0);
    expect(component(ATTACK, 'threats').value).toBeCloseTo(0.65, 9);
    // 40 refusals and 0.42 bans per 1,000 requests.
    expect(component(ATTACK, 'pressure').value).toBeCloseTo(1 - 40 / 50 - 25 / 60 / 5, 9);
    expect(component(ATTACK, 'suspicious-clients').value).toBe(0);
  });

  it('computes each component as documented', () => {
    // Failed logins: (failed + 2) / (attempts + 20), full marks up to 10%, 0 from 50%.
    expect(component({ requests: 0 }, 'failed-logins')).toMatchObject({
      value: 1,
      detail: 'no login attempts',
    });
    expect(
      component({ requests: 0, logins: { attempts: 180, failed: 58 } }, 'failed-logins').value,
    ).toBeCloseTo(1 - (60 / 200 - 0.1) / 0.4, 9);
    expect(
      component({ requests: 0, logins: { attempts: 2, failed: 2 } }, 'failed-logins').value,
    ).toBeGreaterThan(0.7);
    // Threats: 1 − per 1,000 / 20.
    expect(component({ requests: 10_000, threats: 50 }, 'threats').value).toBeCloseTo(0.75, 9);
    expect(component({ requests: 0, threats: 3 }, 'threats').value).toBe(0);
    // Pressure: 1 − refused per 1,000 / 50 − bans per 1,000 / 5.
    expect(
      component({ requests: 10_000, rateLimited: 100, bans: 10 }, 'pressure').value,
    ).toBeCloseTo(1 - 10 / 50 - 1 / 5, 9);
    // Suspicious clients: 1 − share / 5%, over at least 100 clients.
    expect(
      component({ requests: 1, clients: { total: 1_000, suspicious: 20 } }, 'suspicious-clients')
        .value,
    ).toBeCloseTo(0.6, 9);
    expect(
      component({ requests: 1, clients: { total: 3, suspicious: 1 } }, 'suspicious-clients').value,
    ).toBeCloseTo(0.8, 9);
    // Hygiene: the share of the given checks that hold.
    expect(
      component(
        { requests: 1, config: { monitoringProtected: false, securityHeaders: true } },
        'hygiene',
      ),
    ).toMatchObject({ value: 0.5, detail: 'missing: monitoring protected' });
  });

  it('leaves hygiene out when no check is given, and shares its weight among the rest', () => {
    const result = securityScore({ ...QUIET, config: undefined });
    expect(result.components.map((c) => c.name)).not.toContain('hygiene');
    expect(result.components.find((c) => c.name === 'threats')!.weight).toBeCloseTo(0.25 / 0.85, 9);
  });

  it('one component at 0 costs its weight and 30 points more', () => {
    const quiet = securityScore(QUIET).score;
    // Credential stuffing alone: the other components stay quiet.
    const stuffing = securityScore({ ...QUIET, logins: { attempts: 5_600, failed: 5_050 } });
    expect(stuffing.score).toBeLessThan(70);
    const mean = stuffing.components.reduce((sum, c) => sum + c.weight * c.value, 0);
    expect(stuffing.score).toBeCloseTo(100 * 0.7 * mean, 1);
    // A service without any of the configuration checks, on a quiet day.
    const bare = securityScore({
      ...QUIET,
      config: { monitoringProtected: false, securityHeaders: false, httpsSeen: false },
    });
    expect(bare.score).toBeLessThan(70);
    expect(quiet).toBeGreaterThan(95);
  });

  it('weighs the components as told', () => {
    const onlyLogins = securityScore(ATTACK, {
      threats: 0,
      pressure: 0,
      'suspicious-clients': 0,
      hygiene: 0,
    });
    expect(onlyLogins.score).toBe(0);
    expect(() => securityScore(QUIET, { threats: -1 })).toThrow(SecurityConfigError);
    expect(() => securityScore(QUIET, { latency: 1 } as never)).toThrow(/weights\.latency/);
    expect(() =>
      securityScore(QUIET, {
        'failed-logins': 0,
        threats: 0,
        pressure: 0,
        'suspicious-clients': 0,
        hygiene: 0,
      }),
    ).toThrow(/weights/);
    expect(() => securityScore({ requests: -5 })).toThrow(/requests/);
    const nothingWeighed = securityScore(QUIET_WITHOUT_CONFIG, {
      'failed-logins': 0,
      threats: 0,
      pressure: 0,
      'suspicious-clients': 0,
    });
    expect(nothingWeighed.score).toBe(100);
  });
});

describe('score-low, once per crossing', () => {
  /** A monitor on the threat component alone: the score is 100 × (1 − threats per 1,000 / 20). */
  function dialled(options: ConstructorParameters<typeof SecurityScoreMonitor>[0] = {}) {
    const monitor = new SecurityScoreMonitor({
      weights: { 'failed-logins': 0, pressure: 0, 'suspicious-clients': 0, hygiene: 0 },
      ...options,
    });
    const evaluate = (target: number) =>
      monitor.evaluate({ requests: 100_000, threats: Math.round(2_000 * (1 - target / 100)) })
        .score;
    return { monitor, evaluate };
  }

  it('fires when the score falls below 70, not again until it has recovered past 75', () => {
    const { monitor, evaluate } = dialled();
    const low: SecurityScoreEvent[] = [];
    const recovered: SecurityScoreEvent[] = [];
    monitor.on('score-low', (event) => low.push(event));
    monitor.on('score-recovered', (event) => recovered.push(event));
    expect(evaluate(90)).toBe(90);
    expect(low).toHaveLength(0);
    expect(evaluate(69)).toBe(69);
    expect(low).toHaveLength(1);
    expect(low[0]).toMatchObject({ threshold: 70 });
    expect(monitor.low).toBe(true);
    // Hovering around the threshold: no new event.
    for (const target of [71, 68, 72, 69, 74, 66]) evaluate(target);
    expect(low).toHaveLength(1);
    expect(recovered).toHaveLength(0);
    expect(evaluate(74.9)).toBe(74.9);
    expect(recovered).toHaveLength(0);
    expect(evaluate(75)).toBe(75);
    expect(recovered).toHaveLength(1);
    expect(monitor.low).toBe(false);
    evaluate(60);
    expect(low).toHaveLength(2);
    expect(monitor.last?.score).toBeLessThan(70);
  });

  it('takes its threshold and hysteresis', () => {
    const monitor = new SecurityScoreMonitor({ threshold: 90, hysteresis: 0 });
    const events: string[] = [];
    monitor.on('score-low', () => events.push('low'));
    monitor.on('score-recovered', () => events.push('recovered'));
    monitor.evaluate(ATTACK);
    monitor.evaluate(QUIET);
    monitor.evaluate(ATTACK);
    expect(events).toEqual(['low', 'recovered', 'low']);
    expect(() => new SecurityScoreMonitor({ threshold: 120 })).toThrow(/threshold/);
    expect(() => new SecurityScoreMonitor({ hysteresis: -1 })).toThrow(/hysteresis/);
  });
});
